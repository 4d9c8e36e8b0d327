import {
  createTracingSessionObserver,
  importOptionalPeer,
  type SessionObserver,
} from "@operator-plugin-framework/wire";
import type { ServerObserver } from "./server-observer.js";
import type { TracingOption } from "./tracing-types.js";

/** The instrumentation scope of the operator's spans. */
export const SERVER_TRACER_NAME = "@operator-plugin-framework/server";

/**
 * Loads @opentelemetry/api (an optional peer, imported here and only here,
 * when tracing is on) and returns an observer that gives every call to a
 * plugin a CLIENT span and sends its trace context along, and every host
 * call from a plugin a SERVER span, the child of the plugin's. Fails with
 * FAILED_PRECONDITION and the install command when the package is missing.
 */
export async function loadServerTracing(option: TracingOption): Promise<ServerObserver> {
  const api = await importOptionalPeer(
    () => import("@opentelemetry/api"),
    "@opentelemetry/api",
    "^1.9.0",
    "the tracing option",
  );
  const provider = (option === true ? undefined : option.tracerProvider) ?? api.trace;
  const tracer = provider.getTracer(SERVER_TRACER_NAME);
  return {
    sessionOpened: (session) => {
      const calls = createTracingSessionObserver(api, tracer, "caller", {
        plugin: session.name,
        sessionId: session.id,
      });
      // The plugin's host calls: SERVER spans, children of the plugin's span from the call's metadata.
      let hostCalls: SessionObserver | undefined;
      return {
        ...calls,
        hostCallStarted(method, _kind, incoming) {
          hostCalls ??= createTracingSessionObserver(api, tracer, "handler", {
            plugin: session.name,
            sessionId: session.id,
            caller: "plugin",
          });
          return hostCalls.callStarted(method, incoming);
        },
      };
    },
    refused: () => {},
  };
}
