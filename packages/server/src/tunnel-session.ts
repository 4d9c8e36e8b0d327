import type { Frame, Settings } from "@operator-plugin-framework/proto";
import {
  type ChannelCall,
  type Deadline,
  FrameScheduler,
  MAX_STREAM_ID,
  protocolViolation,
} from "@operator-plugin-framework/wire";
import { deadlineMs, SessionBase, type SessionInit } from "./session-base.js";
import type { SessionLimits, SessionTransport } from "./transport.js";
import { TunnelCall } from "./tunnel-call.js";

/** What each side accepts on its receiving side, after defaults. */
export interface NegotiatedSettings {
  local: Required<Settings>;
  peer: Required<Settings>;
}

/**
 * A revision-1 plugin session: many concurrent calls multiplexed on the
 * plugin's one stream by stream id, all frames written through one scheduler.
 */
export class TunnelSession extends SessionBase {
  readonly scheduler: FrameScheduler;
  private readonly streams = new Map<number, TunnelCall>();
  private nextStreamId = 1;

  constructor(
    init: SessionInit,
    transport: SessionTransport,
    readonly settings: NegotiatedSettings,
    readonly limits: SessionLimits,
  ) {
    super(init);
    this.scheduler = new FrameScheduler({
      write: (message) => transport.write(message),
      quantum: settings.peer.maxChunkSize,
    });
    transport.onDrain(() => this.scheduler.resume());
  }

  get inFlight(): number {
    return this.streams.size;
  }

  createCall(method: string, deadline: Deadline): ChannelCall {
    return new TunnelCall(this, method, deadlineMs(deadline));
  }

  /** Allocates a stream id for a call, or says why it cannot open. */
  openStream(call: TunnelCall): number | string {
    const limit = Math.min(this.settings.peer.maxConcurrentStreams, this.limits.maxConcurrentStreams);
    if (this.streams.size >= limit) {
      return `plugin "${this.name}" session has ${this.streams.size} calls open, the limit is ${limit}`;
    }
    const id = this.nextStreamId++;
    this.streams.set(id, call);
    if (this.nextStreamId >= MAX_STREAM_ID) this.drain("stream ids exhausted");
    return id;
  }

  closeStream(id: number): void {
    if (this.streams.delete(id)) this.checkIdle();
  }

  /** Frames from the plugin. A frame for a stream we never opened ends the session. */
  onFrames(frames: readonly Frame[]): void {
    for (const frame of frames) {
      if (!frame.kind) throw protocolViolation(`frame for stream ${frame.streamId} has no kind`);
      const call = this.streams.get(frame.streamId);
      if (call) call.onFrame(frame.kind);
      else if (frame.streamId === 0 || frame.streamId >= this.nextStreamId) {
        throw protocolViolation(`${frame.kind.$case} frame for unknown stream ${frame.streamId}`);
      }
      // Otherwise the call already ended (cancelled, timed out): a late frame, dropped quietly.
    }
  }

  /**
   * Tells the plugin to register again and finish its calls here. A hard
   * drain (the operator stops) refuses new calls at once; a soft one (maximum
   * age) keeps taking them until the plugin's new session is there.
   */
  drain(reason: string, graceMs = 0, hard = true): void {
    if (this.draining || (!hard && this.retiring)) return;
    if (hard) this.draining = true;
    else this.retiring = true;
    this.scheduler.sendMessage({ payload: { $case: "drain", value: { reason, graceMs, ack: false } } });
  }

  /**
   * The plugin is leaving: take no new calls here, and confirm in order on
   * the stream, so the plugin knows every call it will get is already sent.
   */
  pluginLeaving(): void {
    this.draining = true;
    this.scheduler.sendMessage({ payload: { $case: "drain", value: { reason: "", graceMs: 0, ack: true } } });
  }

  terminate(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.scheduler.close();
    const calls = [...this.streams.values()];
    this.streams.clear();
    const message = `plugin "${this.name}" session closed: ${reason}`;
    for (const call of calls) call.onSessionClosed(message);
    this.checkIdle();
  }
}
