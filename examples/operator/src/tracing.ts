// Opt-in tracing for the example (--trace-stdout): an OpenTelemetry SDK
// registered globally, so the framework's `tracing: true` spans are recorded,
// and every ended span written to stdout as one JSON line. Imported only when
// the flag is set, so a normal run never loads the SDK.
//
// examples/plugin/src/tracing.ts is the same file, on purpose: each example is
// copied out on its own as the start of a real project, so the examples share
// no code. Change both together.
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode, hrTimeToMilliseconds, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";

/**
 * Registers a tracer provider, the async-hooks context manager and the W3C
 * propagator globally; each ended span becomes a line `{"otel":"span",...}`
 * on stdout, next to the logger's lines (a collector would take an OTLP
 * exporter here instead).
 */
export function registerStdoutTracing(): void {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(stdoutExporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
}

const stdoutExporter: SpanExporter = {
  export(spans, done) {
    for (const span of spans) process.stdout.write(`${JSON.stringify(toLine(span))}\n`);
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: async () => {},
};

function toLine(span: ReadableSpan) {
  const { traceId, spanId } = span.spanContext();
  return {
    otel: "span",
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: SpanKind[span.kind],
    durationMs: hrTimeToMilliseconds(span.duration),
    attributes: span.attributes,
    status: span.status,
  };
}
