// Metrics and tracing as an operator would run them, for the observed
// variants: the OpenTelemetry SDK with the context manager and propagator it
// registers, and a batch processor whose spans go nowhere, so the measured
// cost is the framework's and the SDK's, not an exporter's I/O.
// Two samplings: `observed` records every call (the SDK's default sampler;
// OPF_BENCH_TRACE_RATIO changes its share), `sampled` records 10 % of traces
// with a ParentBased(TraceIdRatioBased) sampler, what an operator at this
// rate runs in production; the issue 13 target is judged on `sampled`.
// OPF_BENCH_OBSERVED=metrics (or =tracing) turns on only that half, to tell
// their costs apart.
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

/** The share of traces the `sampled` variant records. */
export const SAMPLED_RATIO = 0.1;

/** Which observed variant: every trace recorded, or a sampled share. */
export type Sampling = "all" | "sampled";

const discard: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: async () => {},
};

const providers = new Map<Sampling, BasicTracerProvider>();

function ratioOf(sampling: Sampling): number {
  return sampling === "sampled" ? SAMPLED_RATIO : Number(process.env.OPF_BENCH_TRACE_RATIO ?? 1);
}

/**
 * The options that turn metrics and tracing on, for an operator or a plugin.
 * The first call sets this process's context manager and propagator up; each
 * sampling has its own tracer provider, as two services in one process would.
 */
export function observabilityOn(sampling: Sampling = "all") {
  if (providers.size === 0) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  let provider = providers.get(sampling);
  if (!provider) {
    const ratio = ratioOf(sampling);
    provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(discard)],
      ...(ratio < 1
        ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) }
        : {}),
    });
    providers.set(sampling, provider);
  }
  const only = process.env.OPF_BENCH_OBSERVED;
  return {
    ...(only === "tracing" ? {} : { metrics: true as const }),
    ...(only === "metrics" ? {} : { tracing: { tracerProvider: provider } }),
  };
}

/** Flushes and stops the tracer providers set up so far. */
export async function observabilityOff(): Promise<void> {
  const all = [...providers.values()];
  providers.clear();
  await Promise.all(all.map((p) => p.shutdown()));
}
