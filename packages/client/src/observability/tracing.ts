import type { Tracer, TracerProvider } from "@opentelemetry/api";
import {
  type CallObserver,
  createTracingSessionObserver,
  importOptionalPeer,
  type Logger,
  noopCallObserver,
  noopSessionObserver,
  type OtelApiModule,
  type SessionObserver,
} from "@operator-plugin-framework/wire";

/**
 * The tracing option of connectPlugin(): `true` for the globally registered
 * tracer provider, or the provider to take the tracer from.
 */
export type TracingOption = true | { tracerProvider?: TracerProvider };

/** The instrumentation scope of the plugin's spans. */
export const CLIENT_TRACER_NAME = "@operator-plugin-framework/client";

/**
 * The plugin's tracing: loads @opentelemetry/api (an optional peer, imported
 * only when tracing is on) and gives each session an observer that records a
 * SERVER span per call, a child of the caller's span from the call's
 * metadata, and runs the handler inside it; host calls get CLIENT spans. Calls are traced once the API
 * has loaded (normally before the first registration completes). A missing
 * package is logged as an error: the plugin keeps serving, untraced.
 */
export class PluginTracing {
  private loaded: { api: OtelApiModule; tracer: Tracer } | undefined;
  private hostCalls: SessionObserver | undefined;

  constructor(
    option: TracingOption,
    private readonly plugin: string,
    logger: Logger,
  ) {
    importOptionalPeer(
      () => import("@opentelemetry/api"),
      "@opentelemetry/api",
      "^1.9.0",
      "the tracing option",
    ).then(
      (api) => {
        const provider = (option === true ? undefined : option.tracerProvider) ?? api.trace;
        this.loaded = { api, tracer: provider.getTracer(CLIENT_TRACER_NAME) };
      },
      (err) => logger.error({ error: (err as Error).message }, "plugin tracing is off"),
    );
  }

  /**
   * The observer of one of the plugin's host calls: a CLIENT span, the child
   * of the context active when the call starts, whose context goes to the
   * operator in the call's metadata. No session id: the call may wait for a session.
   */
  hostCall(method: string): CallObserver {
    const loaded = this.loaded;
    if (!loaded) return noopCallObserver;
    this.hostCalls ??= createTracingSessionObserver(loaded.api, loaded.tracer, "caller", {
      plugin: this.plugin,
      caller: "plugin",
    });
    return this.hostCalls.callStarted(method);
  }

  /** The observer of one session's calls; it traces from the moment the API has loaded. */
  session(sessionId: string): SessionObserver {
    let traced: SessionObserver | undefined;
    return {
      ...noopSessionObserver,
      callStarted: (method, incoming) => {
        const loaded = this.loaded;
        if (!loaded) return noopCallObserver;
        traced ??= createTracingSessionObserver(loaded.api, loaded.tracer, "handler", {
          plugin: this.plugin,
          sessionId,
        });
        return traced.callStarted(method, incoming);
      },
    };
  }
}
