import { type Metadata, status } from "@grpc/grpc-js";
import type { Context, Span, SpanKind, SpanOptions, Tracer } from "@opentelemetry/api";
import type { MetadataEntry } from "@operator-plugin-framework/proto";
import { type CallObserver, noopSessionObserver, type SessionObserver } from "./observer.js";
import { extractTraceContext, injectTraceContext, type OtelApiModule } from "./trace-context.js";

/** Which end of a call this side is: the caller (CLIENT spans) or the handler (SERVER spans). */
export type CallRole = "caller" | "handler";

/**
 * Which side made a call: "operator" for the operator's calls to a plugin,
 * "plugin" for a plugin's calls to the operator's host services.
 */
export type CallerSide = "operator" | "plugin";

/** The session whose calls are traced, as span attributes name it. */
export interface TracedSession {
  readonly plugin: string;
  /** Absent where the call is traced before it has a session (a plugin's host call). */
  readonly sessionId?: string;
  /** Which side makes the calls this observer sees. Default: "operator". */
  readonly caller?: CallerSide;
}

/** Attribute names beyond the OpenTelemetry RPC semantic conventions. */
export const PLUGIN_NAME_ATTRIBUTE = "pluginframework.plugin.name";
export const SESSION_ID_ATTRIBUTE = "pluginframework.session.id";
/** "operator" or "plugin": which side called, so the two directions of a session tell apart. */
export const CALLER_ATTRIBUTE = "pluginframework.caller";

// The semantic conventions for gRPC: a client span is an error for every
// code but OK; a server span only for codes that mean the server failed,
// since NOT_FOUND or INVALID_ARGUMENT are the caller's doing.
const SERVER_ERRORS = new Set<number>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

class TracingCall implements CallObserver {
  constructor(
    private readonly api: OtelApiModule,
    private readonly role: CallRole,
    private readonly span: Span,
    /** The span's context: what the caller propagates, what the handler runs in. */
    private readonly context: Context,
  ) {}
  messageSent(): void {}
  messageReceived(): void {}
  flowStalled(): void {}
  end(code: number): void {
    const span = this.span;
    // A span the sampler dropped keeps nothing: skip the attribute and status work.
    if (!span.isRecording()) return span.end();
    span.setAttribute("rpc.grpc.status_code", code);
    if (this.role === "caller" ? code !== status.OK : SERVER_ERRORS.has(code)) {
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: status[code] ?? "UNKNOWN" });
    }
    span.end();
  }
  outgoing(entries: MetadataEntry[]): void {
    injectTraceContext(this.api, this.context, entries);
  }
  run<T>(handler: () => T, call?: object): T {
    if (call) this.api.context.bind(this.context, call);
    return this.api.context.with(this.context, handler);
  }
}

/**
 * A session observer that records one span per call, with the OpenTelemetry
 * RPC semantic conventions (`rpc.system`, `rpc.service`, `rpc.method`,
 * `rpc.grpc.status_code`) and the plugin name and session id.
 *
 * The caller's span is a child of the context active when the call starts,
 * and its context goes out in the call's metadata; the handler's span is a
 * child of the context that came in, and the handler runs inside it. Either
 * direction of the tunnel uses the same observer with the other role.
 *
 * With no tracer provider registered, spans are non-recording and the trace
 * context still passes through.
 */
export function createTracingSessionObserver(
  api: OtelApiModule,
  tracer: Tracer,
  role: CallRole,
  session: TracedSession,
): SessionObserver {
  const kind = role === "caller" ? api.SpanKind.CLIENT : api.SpanKind.SERVER;
  // A session calls or serves few methods: their span options are made once
  // (up to a bound, past which they are made per call).
  const byMethod = new Map<string, SpanStart>();
  const spanStart = (method: string): SpanStart => {
    let start = byMethod.get(method);
    if (!start) {
      start = spanStartOf(method, kind, session);
      if (byMethod.size < MAX_CACHED_METHODS) byMethod.set(method, start);
    }
    return start;
  };
  return {
    ...noopSessionObserver,
    callStarted(method: string, incoming?: Metadata): CallObserver {
      const parent =
        role === "caller"
          ? api.context.active()
          : incoming
            ? extractTraceContext(api, incoming)
            : api.ROOT_CONTEXT;
      const { name, options } = spanStart(method);
      const span = tracer.startSpan(name, options, parent);
      return new TracingCall(api, role, span, api.trace.setSpan(parent, span));
    },
  };
}

/** Method paths per session whose span name and attributes are kept. */
const MAX_CACHED_METHODS = 256;

interface SpanStart {
  name: string;
  options: SpanOptions;
}

function spanStartOf(method: string, kind: SpanKind, session: TracedSession): SpanStart {
  // "/pkg.Service/Method": the span is named "pkg.Service/Method", as the conventions ask.
  const slash = method.lastIndexOf("/");
  return {
    name: method.slice(1),
    options: {
      kind,
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": method.slice(1, slash),
        "rpc.method": method.slice(slash + 1),
        [PLUGIN_NAME_ATTRIBUTE]: session.plugin,
        [CALLER_ATTRIBUTE]: session.caller ?? "operator",
        ...(session.sessionId === undefined ? {} : { [SESSION_ID_ATTRIBUTE]: session.sessionId }),
      },
    },
  };
}
