import { status } from "@grpc/grpc-js";
import type { Frame, PluginStreamMessage, ServiceDescriptor } from "@operator-plugin-framework/proto";
import {
  type CallCarrier,
  CallQueue,
  type ChannelCall,
  type Deadline,
  FrameScheduler,
  type HandlerCalls,
  HOST_SERVICES_REVISION,
  Liveness,
  MAX_STREAM_ID,
  type NegotiatedSettings,
  OutgoingCall,
  protocolViolation,
  SESSION_MAX_UNWRITTEN_BYTES,
  type StreamBroker,
} from "@operator-plugin-framework/wire";
import { queueFullMessage } from "./call-queue.js";
import { createHostCalls, type HostServing } from "./host-calls.js";
import {
  type DrainOptions,
  deadlineMs,
  type ServerSessionLimits,
  SessionBase,
  type SessionInit,
} from "./session-base.js";
import type { SessionTransport } from "./transport.js";

/** Liveness pings to the plugin; an interval of 0 turns them off. */
export interface KeepaliveSettings {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * A revision-1 or -2 plugin session: many concurrent calls multiplexed on
 * the plugin's one stream by stream id. Every message it sends, frames,
 * register_ack, drain, pings and their answers, goes through its one
 * scheduler, so the stream has exactly one writer and keeps its order. At
 * revision 2 the plugin may call the operator's host services too: the
 * operator opens its calls on odd ids, the plugin on even ones.
 *
 * Its calls to the plugin are wire's `OutgoingCall`, the same caller-side
 * state machine the plugin uses for host calls; the session is their broker
 * (it gives out stream ids and queues past the limit) and their carrier.
 */
export class TunnelSession extends SessionBase implements StreamBroker, CallCarrier {
  readonly scheduler: FrameScheduler;
  private readonly streams = new Map<number, OutgoingCall>();
  /** Calls waiting for a stream slot, first come first served. */
  private readonly waiting: CallQueue<OutgoingCall>;
  readonly queueLabel = "on the plugin session";
  private readonly liveness: Liveness;
  private nextStreamId = 1;
  /** 2 at revision 2, where the plugin's calls take the even ids. */
  private readonly streamIdStep: number;
  /**
   * The plugin's calls to host services, created at its first host call
   * (most plugins never make one, and at 10,000 sessions their state is
   * memory per session); revision 2 only.
   */
  private hostCalls: HandlerCalls | undefined;
  /** What `createHostCalls` needs; undefined below revision 2. */
  private readonly host: { serving: HostServing; authority: string } | undefined;
  /** Why new host calls are refused, when that was decided before the first one. */
  private hostRefusal: string | undefined;
  /** The host services listed in the ack: those offered when the plugin registered. */
  private readonly hostDescriptors: ServiceDescriptor[];

  constructor(
    init: SessionInit,
    transport: SessionTransport,
    limits: ServerSessionLimits,
    readonly settings: NegotiatedSettings,
    keepalive: KeepaliveSettings,
    /** The host services offered if the session speaks revision 2, and the authority the plugin dialed. */
    host: { serving: HostServing; authority: string },
  ) {
    super(init, transport, limits);
    this.waiting = new CallQueue(limits.maxQueuedCalls);
    this.scheduler = new FrameScheduler({
      write: (message, onWritten) => transport.write(message, onWritten),
      maxUnwrittenBytes: SESSION_MAX_UNWRITTEN_BYTES,
      quantum: settings.peer.maxChunkSize,
      onControlOverflow: (message) =>
        transport.end(status.RESOURCE_EXHAUSTED, `plugin "${this.name}" was cut off: ${message}`),
    });
    transport.onDrain(() => this.scheduler.resume());
    this.liveness = new Liveness({
      ...keepalive,
      sendPing: (nonce) =>
        this.scheduler.sendMessage({ payload: { $case: "ping", value: { nonce, ack: false } } }),
      onDead: (message) => {
        this.observer.livenessFailed();
        transport.end(status.UNAVAILABLE, `plugin "${this.name}" is unresponsive: ${message}`);
      },
    });
    const revision2 = this.protocolRevision >= HOST_SERVICES_REVISION;
    this.streamIdStep = revision2 ? 2 : 1;
    this.host = revision2 ? host : undefined;
    this.hostDescriptors = revision2 ? host.serving.services.descriptors.slice() : [];
  }

  /** Calls open or waiting for a stream slot, and host-service calls: drain waits for all. */
  get inFlight(): number {
    return this.streams.size + this.waiting.size + (this.hostCalls?.size ?? 0);
  }

  accept(): void {
    this.scheduler.sendMessage({
      payload: {
        $case: "registerAck",
        value: {
          accepted: true,
          hostServices: this.hostDescriptors,
          protocolRevision: this.protocolRevision,
          settings: this.settings.local,
          sessionId: this.id,
          code: 0,
          message: "",
        },
      },
    });
    this.liveness.start();
  }

  onMessage(message: PluginStreamMessage): void {
    // Any message proves the plugin alive, even while a ping answer waits behind frames.
    this.liveness.onActivity();
    const payload = message.payload;
    switch (payload?.$case) {
      case "frames":
        return this.onFrames(payload.value.frames);
      case "ping":
        if (payload.value.ack) this.liveness.onAck(payload.value.nonce);
        else
          this.scheduler.sendMessage({
            payload: { $case: "ping", value: { nonce: payload.value.nonce, ack: true } },
          });
        return;
      case "drain":
        return this.pluginLeaving();
      case "error":
        return this.transport.end(
          status.UNAVAILABLE,
          `plugin reported an error: ${payload.value.message.slice(0, 200)}`,
        );
      case "rpcResponse":
        throw protocolViolation("rpc_response from a revision-1 plugin");
      case "register":
        throw protocolViolation("duplicate register on one stream");
      default:
        throw protocolViolation(`unexpected ${payload ? payload.$case : "empty message"} from a plugin`);
    }
  }

  createCall(method: string, deadline: Deadline): ChannelCall {
    return new OutgoingCall(this, method, deadlineMs(deadline), this.observer.callStarted(method));
  }

  get maxSendMessageSize(): number {
    return this.limits.maxSendMessageSize;
  }

  get maxReceiveMessageSize(): number {
    return this.limits.maxReceiveMessageSize;
  }

  /**
   * Gives `call` a stream (through `call.open`) now if a slot is free, else
   * queues it until one is. Returns why it can do neither: the session is
   * closing, or the queue is full.
   */
  requestStream(call: OutgoingCall): { code: status; details: string } | undefined {
    const refusal = this.refusal();
    if (refusal !== undefined) return { code: status.UNAVAILABLE, details: refusal };
    if (this.streams.size < this.streamLimit && this.waiting.size === 0) {
      this.openStream(call);
      return undefined;
    }
    if (this.waiting.push(call)) return undefined;
    return {
      code: status.RESOURCE_EXHAUSTED,
      details: queueFullMessage(this.name, this.streams.size, this.waiting.bound),
    };
  }

  /** A queued call gave up (deadline, cancel): it leaves the queue at once. */
  withdraw(call: OutgoingCall): void {
    if (this.waiting.remove(call)) this.checkIdle();
  }

  closeStream(id: number): void {
    if (!this.streams.delete(id)) return;
    this.admitWaiting();
    this.checkIdle();
  }

  /** Both our limit and the plugin's: HTTP/2 servers announce theirs the same way. */
  private get streamLimit(): number {
    return Math.min(this.settings.peer.maxConcurrentStreams, this.limits.maxConcurrentStreams);
  }

  private openStream(call: OutgoingCall): void {
    const id = this.nextStreamId;
    this.nextStreamId += this.streamIdStep;
    this.streams.set(id, call);
    if (this.nextStreamId >= MAX_STREAM_ID) {
      this.drain({ reason: "stream ids exhausted", graceMs: 0, mode: "refuse-new" });
    }
    call.open(this, id);
  }

  /** Opens queued calls, first in line first, while slots are free. */
  private admitWaiting(): void {
    while (this.streams.size < this.streamLimit && this.closedReason === undefined) {
      if (this.nextStreamId >= MAX_STREAM_ID) {
        // Never sent: the plugin registers again and a retry there is safe.
        const message = `plugin "${this.name}" session ran out of stream ids; the call was not sent, retry it`;
        for (const call of this.waiting.clear()) call.end(status.UNAVAILABLE, message);
        return;
      }
      const call = this.waiting.shift();
      if (!call) return;
      this.openStream(call);
    }
  }

  /**
   * Frames from the plugin. A frame for a stream we never opened ends the
   * session. At revision 2, even ids are the plugin's calls to host services.
   */
  private onFrames(frames: readonly Frame[]): void {
    for (const frame of frames) {
      if (!frame.kind) throw protocolViolation(`frame for stream ${frame.streamId} has no kind`);
      if (this.host) {
        if (frame.streamId % 2 === 0 && frame.streamId !== 0) {
          this.openHostCalls().onFrame(frame);
          continue;
        }
        if (frame.kind.$case === "newStream") {
          throw protocolViolation(
            `new_stream on stream id ${frame.streamId}: at revision 2 a plugin opens its calls on even ids (2, 4, 6, ...)`,
          );
        }
      }
      const call = this.streams.get(frame.streamId);
      if (call) call.onFrame(frame.kind);
      else if (frame.streamId === 0 || frame.streamId >= this.nextStreamId) {
        throw protocolViolation(`${frame.kind.$case} frame for unknown stream ${frame.streamId}`);
      }
      // Otherwise the call already ended (cancelled, timed out): a late frame, dropped quietly.
    }
  }

  /** The host-call handler, created on first use in the state the session is in. */
  private openHostCalls(): HandlerCalls {
    if (this.hostCalls) return this.hostCalls;
    const { serving, authority } = this.host!;
    const calls = createHostCalls(this, serving, authority, () => this.checkIdle());
    if (this.hostRefusal !== undefined) calls.stopAccepting(this.hostRefusal);
    if (this.closedReason !== undefined) calls.close();
    this.hostCalls = calls;
    return calls;
  }

  protected announceDrain({ reason, graceMs, mode }: DrainOptions): void {
    // The operator is going away: host calls open now finish, new ones go to another replica.
    if (mode === "refuse-new") {
      this.hostRefusal ??= `the operator is draining: ${reason}`;
      this.hostCalls?.stopAccepting(this.hostRefusal);
    }
    this.scheduler.sendMessage({ payload: { $case: "drain", value: { reason, graceMs, ack: false } } });
  }

  /**
   * The plugin is leaving: take no new calls here, and confirm in order on
   * the stream, so the plugin knows every call it will get is already sent.
   */
  private pluginLeaving(): void {
    if (!this.draining) this.observer.drained("plugin");
    this.draining = true;
    this.scheduler.sendMessage({ payload: { $case: "drain", value: { reason: "", graceMs: 0, ack: true } } });
  }

  terminate(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.liveness.stop();
    this.hostCalls?.close();
    this.scheduler.close();
    const calls = [...this.streams.values()];
    this.streams.clear();
    const queued = this.waiting.clear();
    const message = `plugin "${this.name}" session closed: ${reason}`;
    for (const call of calls) call.end(status.UNAVAILABLE, message);
    // Nothing of a queued call reached the plugin: say so, a retry elsewhere is safe.
    for (const call of queued)
      call.end(status.UNAVAILABLE, `${message} (the call was queued and never sent)`);
    this.checkIdle();
  }
}
