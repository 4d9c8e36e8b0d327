// Metrics and tracing as an operator would run them, for the observed
// variant: the OpenTelemetry SDK with the context manager and propagator it
// registers, and a batch processor whose spans go nowhere, so the measured
// cost is the framework's and the SDK's, not an exporter's I/O.
// OPF_BENCH_OBSERVED=metrics (or =tracing) turns on only that half, to tell
// their costs apart; the target is judged with both. OPF_BENCH_TRACE_RATIO
// (default 1: every call recorded) samples that share of traces instead, as
// a ParentBased(TraceIdRatioBased) sampler does in production.
import { context, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";

const discard: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: async () => {},
};

let provider: BasicTracerProvider | undefined;

/**
 * The options that turn metrics and tracing on, for an operator or a plugin.
 * The first call sets this process's tracing up; the processes' other
 * variants share its context manager, as they would share a NodeSDK.
 */
export function observabilityOn() {
  if (!provider) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const ratio = Number(process.env.OPF_BENCH_TRACE_RATIO ?? 1);
    provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(discard)],
      ...(ratio < 1
        ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) }
        : {}),
    });
  }
  const only = process.env.OPF_BENCH_OBSERVED;
  return {
    ...(only === "tracing" ? {} : { metrics: true as const }),
    ...(only === "metrics" ? {} : { tracing: { tracerProvider: provider } }),
  };
}

/** Flushes and stops the tracer provider, if one was set up. */
export async function observabilityOff(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}
