import type { TracerProvider } from "@opentelemetry/api";

/**
 * The tracing option of createPluginServer(): `true` for the globally
 * registered tracer provider, or the provider to take the tracer from.
 */
export type TracingOption = true | { tracerProvider?: TracerProvider };
