import type { Metadata } from "@grpc/grpc-js";
import type { MetadataEntry } from "@operator-plugin-framework/proto";
import type { MethodHandler } from "./service-table.js";

/**
 * Hooks through which metrics and tracing watch calls, without the
 * call code knowing which, if any, is turned on. The defaults do nothing, so
 * a disabled feature costs one empty call per event on the hot path.
 *
 * The events are shaped for both Prometheus and OpenTelemetry: a call starts
 * with its method path (the session observer already knows the plugin and
 * the session), and ends once with its status code; the duration is the time
 * between the two. Tracing also needs to carry a context across the tunnel:
 * the caller's side adds it to the call's metadata (`outgoing`), the
 * handler's side reads it (`callStarted`'s metadata) and runs the handler in
 * it (`run`). Those two hooks are optional, so a disabled feature costs the
 * caller one check.
 */

/** Events of one call. `end` is called exactly once, last. */
export interface CallObserver {
  /** One whole message was queued for the peer; `bytes` is its serialized size. */
  messageSent(bytes: number): void;
  /** One whole message arrived from the peer. */
  messageReceived(bytes: number): void;
  /** The call had data to send but waited this long for the peer's flow-control window. */
  flowStalled(ms: number): void;
  /** The call ended with this gRPC status code. */
  end(code: number): void;
  /** Caller side: may add entries (trace context) to the metadata of the call's new_stream. */
  outgoing?(entries: MetadataEntry[]): void;
  /**
   * Handler side: runs the call's handler and returns its result. Tracing runs
   * it inside the call's span, and binds the listeners of `call` (when given:
   * the stream a client-streaming or bidi handler reads) to that span too, so
   * spans started in its "data" listener are the call's children as well.
   */
  run?<T>(handler: () => T, call?: object): T;
}

/** Why a session was drained. */
export type DrainCause = "operator" | "max_age" | "plugin";

/** Events of one session (one plugin stream); it knows its plugin and session id. */
export interface SessionObserver {
  /**
   * A call on this session starts; `method` is the full path, "/pkg.Service/Method".
   * On the handler's side, `incoming` is the metadata the caller sent; observers only read it.
   */
  callStarted(method: string, incoming?: Metadata): CallObserver;
  /**
   * Operator side, protocol revision 2: a call from the plugin to one of the
   * operator's host services starts on this session (the operator is its
   * handler); `kind` is the method's. Only methods the operator serves get
   * here. Absent: host calls are not observed.
   */
  hostCallStarted?(method: string, kind: MethodHandler["kind"], incoming?: Metadata): CallObserver;
  /** The session was told to drain, or the plugin announced it is leaving. */
  drained(cause: DrainCause): void;
  /** The peer stayed silent for a whole liveness timeout. */
  livenessFailed(): void;
  /** The session ended. Called once. */
  closed(): void;
}

const noop = () => {};

/** The call observer used when nothing observes calls. */
export const noopCallObserver: CallObserver = {
  messageSent: noop,
  messageReceived: noop,
  flowStalled: noop,
  end: noop,
};

/** The session observer used when nothing observes sessions. */
export const noopSessionObserver: SessionObserver = {
  callStarted: () => noopCallObserver,
  drained: noop,
  livenessFailed: noop,
  closed: noop,
};
