import { status } from "@grpc/grpc-js";
import type { Frame, Settings } from "@operator-plugin-framework/proto";
import {
  entriesToMetadata,
  type FrameScheduler,
  noopSessionObserver,
  OutboundStream,
  PluginFrameworkError,
  protocolViolation,
  type SessionObserver,
} from "@operator-plugin-framework/wire";
import { invokeHandler } from "./invoke-handler.js";
import type { MethodHandler } from "./service-table.js";
import { TunnelServerCall } from "./tunnel-server-call.js";

/** Limits the plugin applies to the calls it serves. */
export interface ServeLimits {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
  maxConcurrentStreams: number;
}

/**
 * The plugin side of one revision-1 session, the counterpart of the
 * operator's TunnelSession: opens a handler call for each new_stream and
 * routes every frame to its call. Everything it sends goes through the
 * stream's one scheduler.
 */
export class TunnelSession {
  private readonly calls = new Map<number, TunnelServerCall>();
  private highestStreamId = 0;
  private closed = false;
  private accepting = true;
  /** Called whenever the last open call ends. */
  onIdle: () => void = () => {};
  /** Observes this session's calls (metrics). */
  observer: SessionObserver = noopSessionObserver;

  constructor(
    private readonly handlers: ReadonlyMap<string, MethodHandler>,
    readonly scheduler: FrameScheduler,
    readonly settings: { local: Required<Settings>; peer: Required<Settings> },
    readonly limits: ServeLimits,
    readonly peer: string,
    readonly host: string,
  ) {}

  /** Calls open now. */
  get inFlight(): number {
    return this.calls.size;
  }

  /** Frames from the operator. Throws INVALID_ARGUMENT for a violation that breaks the session. */
  onFrames(frames: readonly Frame[]): void {
    for (const frame of frames) {
      const kind = frame.kind;
      if (!kind) throw protocolViolation(`frame for stream ${frame.streamId} has no kind`);
      if (kind.$case === "newStream") {
        if (frame.streamId <= this.highestStreamId) {
          // A broken operator: end the call it collides with (or answer the stale id), keep the session.
          const { code, details } = protocolViolation(`new_stream reuses stream id ${frame.streamId}`);
          const existing = this.calls.get(frame.streamId);
          if (existing) existing.fail(code, details);
          else this.reject(frame.streamId, code, details);
          continue;
        }
        this.highestStreamId = frame.streamId;
        this.open(frame.streamId, kind.value);
        continue;
      }
      const call = this.calls.get(frame.streamId);
      if (call) call.onFrame(kind);
      else if (frame.streamId === 0 || frame.streamId > this.highestStreamId) {
        throw protocolViolation(`${kind.$case} frame for unknown stream ${frame.streamId}`);
      }
      // Otherwise a frame for a call that already ended: dropped quietly.
    }
  }

  release(streamId: number): void {
    if (this.calls.delete(streamId) && this.calls.size === 0) this.onIdle();
  }

  /** New calls are refused with UNAVAILABLE from now on; open ones go on. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** The session ended: every open call is cancelled, its handler sees `cancelled`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of [...this.calls.values()]) call.cancel();
  }

  /** Ends a stream that has no call here with a status. */
  private reject(streamId: number, code: status, details: string): void {
    new OutboundStream(streamId, this.scheduler, 0, 1).pushFrame({
      $case: "status",
      value: { code, message: details, details: Buffer.alloc(0), trailers: [] },
    });
  }

  private open(
    streamId: number,
    request: NonNullable<Extract<Frame["kind"], { $case: "newStream" }>>["value"],
  ): void {
    const reject = (code: status, details: string) => this.reject(streamId, code, details);
    if (this.closed) return;
    if (!this.accepting) return reject(status.UNAVAILABLE, "plugin is shutting down");
    const handler = this.handlers.get(request.method);
    if (!handler)
      return reject(status.UNIMPLEMENTED, `The server does not implement the method ${request.method}`);
    if (this.calls.size >= this.limits.maxConcurrentStreams) {
      return reject(
        status.RESOURCE_EXHAUSTED,
        `plugin has ${this.calls.size} calls open, the limit is ${this.limits.maxConcurrentStreams}`,
      );
    }
    if (request.timeoutMs === 0) return reject(status.DEADLINE_EXCEEDED, "Deadline exceeded");
    let metadata: ReturnType<typeof entriesToMetadata>;
    try {
      metadata = entriesToMetadata(request.metadata);
    } catch (err) {
      const error = PluginFrameworkError.from(err, status.INVALID_ARGUMENT);
      return reject(error.code, error.details);
    }
    const call = new TunnelServerCall(this, streamId, handler, metadata, request.timeoutMs);
    this.calls.set(streamId, call);
    invokeHandler(call, handler, call.observer);
  }
}
