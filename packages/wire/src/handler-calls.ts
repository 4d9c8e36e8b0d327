import { type Metadata, status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import { PluginFrameworkError, protocolViolation } from "./errors.js";
import type { FrameScheduler } from "./frame-scheduler.js";
import { invokeHandler } from "./invoke-handler.js";
import { entriesToMetadata } from "./metadata.js";
import { noopSessionObserver, type SessionObserver } from "./observer.js";
import { OutboundStream } from "./outbound-stream.js";
import type { MethodHandler } from "./service-table.js";
import type { NegotiatedSettings, SessionLimits } from "./session-types.js";
import { type HandlerSession, TunnelServerCall } from "./tunnel-server-call.js";

type NewStream = Extract<NonNullable<Frame["kind"]>, { $case: "newStream" }>["value"];

/** A status that ends a call before its handler runs. */
export interface Refusal {
  code: status;
  details: string;
}

/** How a {@link HandlerCalls} serves, and what it answers when it does not. */
export interface HandlerCallsOptions {
  /** Handlers by full method path; read at each new call, so it may grow. */
  handlers: ReadonlyMap<string, MethodHandler>;
  scheduler: FrameScheduler;
  settings: NegotiatedSettings;
  /** `maxConcurrentStreams` bounds the calls served at once; past it a call gets RESOURCE_EXHAUSTED. */
  limits: SessionLimits;
  peer: string;
  host: string;
  /** Observes the calls; read when each call starts, so it may be set after construction. */
  observer?: () => SessionObserver;
  /** The UNIMPLEMENTED message for a method no handler serves. */
  unimplemented(method: string): string;
  /** The RESOURCE_EXHAUSTED message for a call over the concurrency limit. */
  overLimit(open: number, limit: number): string;
  /**
   * Decides, before the handler sees anything, whether the call may run:
   * a refusal ends it with that status. Frames that arrive meanwhile wait,
   * within the call's window. Default: every call runs.
   */
  admit?(method: string, metadata: Metadata): Refusal | undefined | Promise<Refusal | undefined>;
  /** Sees every grpc-js call object a handler gets, before the handler does. */
  onCallObject?(callObject: object): void;
  /** Called whenever a call ends. */
  onRelease?(): void;
}

/**
 * The handler role on one session: the calls this side serves, opened by
 * the peer's `new_stream` frames. The plugin serves the operator's calls
 * with it, and the operator serves the plugin's host-service calls. It owns
 * the rules both sides share: ids of new calls only grow, a reused id ends
 * the call it collides with, a frame for an id never opened breaks the
 * session, and a frame for a call that already ended is dropped.
 */
export class HandlerCalls implements HandlerSession {
  readonly scheduler: FrameScheduler;
  readonly settings: NegotiatedSettings;
  readonly limits: SessionLimits;
  readonly peer: string;
  readonly host: string;
  private readonly calls = new Map<number, TunnelServerCall>();
  private highestStreamId = 0;
  private closed = false;
  private refusal: string | undefined;

  constructor(private readonly options: HandlerCallsOptions) {
    this.scheduler = options.scheduler;
    this.settings = options.settings;
    this.limits = options.limits;
    this.peer = options.peer;
    this.host = options.host;
  }

  get observer(): SessionObserver {
    return this.options.observer?.() ?? noopSessionObserver;
  }

  /** Calls open now, including those waiting for `admit`. */
  get size(): number {
    return this.calls.size;
  }

  /**
   * One frame from the caller. Throws INVALID_ARGUMENT for a violation that
   * breaks the session; ends only the call for one that does not.
   */
  onFrame(frame: Frame): void {
    const kind = frame.kind;
    if (!kind) throw protocolViolation(`frame for stream ${frame.streamId} has no kind`);
    if (kind.$case === "newStream") {
      if (frame.streamId <= this.highestStreamId) {
        // A broken peer: end the call it collides with (or answer the stale id), keep the session.
        const { code, details } = protocolViolation(`new_stream reuses stream id ${frame.streamId}`);
        const existing = this.calls.get(frame.streamId);
        if (existing) existing.fail(code, details);
        else this.reject(frame.streamId, code, details);
        return;
      }
      this.highestStreamId = frame.streamId;
      return this.open(frame.streamId, kind.value);
    }
    const call = this.calls.get(frame.streamId);
    if (call) call.onFrame(kind);
    else if (frame.streamId === 0 || frame.streamId > this.highestStreamId) {
      throw protocolViolation(`${kind.$case} frame for unknown stream ${frame.streamId}`);
    }
    // Otherwise a frame for a call that already ended: dropped quietly.
  }

  release(streamId: number): void {
    if (this.calls.delete(streamId)) this.options.onRelease?.();
  }

  /** New calls are refused with UNAVAILABLE and `reason` from now on; open ones go on. */
  stopAccepting(reason: string): void {
    this.refusal ??= reason;
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

  private open(streamId: number, request: NewStream): void {
    const reject = (code: status, details: string) => this.reject(streamId, code, details);
    if (this.closed) return;
    if (this.refusal !== undefined) return reject(status.UNAVAILABLE, this.refusal);
    const handler = this.options.handlers.get(request.method);
    if (!handler) return reject(status.UNIMPLEMENTED, this.options.unimplemented(request.method));
    const limit = this.limits.maxConcurrentStreams;
    if (this.calls.size >= limit) {
      return reject(status.RESOURCE_EXHAUSTED, this.options.overLimit(this.calls.size, limit));
    }
    if (request.timeoutMs === 0) return reject(status.DEADLINE_EXCEEDED, "Deadline exceeded");
    let metadata: Metadata;
    try {
      metadata = entriesToMetadata(request.metadata);
    } catch (err) {
      const error = PluginFrameworkError.from(err, status.INVALID_ARGUMENT);
      return reject(error.code, error.details);
    }
    const call = new TunnelServerCall(this, streamId, handler, metadata, request.timeoutMs);
    this.calls.set(streamId, call);
    const admit = this.options.admit;
    if (!admit) return this.run(call, handler, undefined);
    let verdict: ReturnType<typeof admit>;
    try {
      verdict = admit(request.method, metadata);
    } catch (err) {
      return this.run(call, handler, PluginFrameworkError.from(err, status.INTERNAL));
    }
    if (!(verdict instanceof Promise)) return this.run(call, handler, verdict);
    verdict.then(
      (refusal) => this.run(call, handler, refusal),
      (err: unknown) => this.run(call, handler, PluginFrameworkError.from(err, status.INTERNAL)),
    );
  }

  private run(call: TunnelServerCall, handler: MethodHandler, refusal: Refusal | undefined): void {
    // Cancelled, timed out or cut off while admission was pending: nothing to run.
    if (call.done) return;
    if (refusal) return call.fail(refusal.code, refusal.details);
    invokeHandler(call, handler, call.observer, this.options.onCallObject);
  }
}
