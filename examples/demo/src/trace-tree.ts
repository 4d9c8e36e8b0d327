import type { Child, LogLine } from "./child.js";

/** One span as the examples print it with --trace-stdout (see examples/operator/src/tracing.ts). */
export interface SpanLine {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  durationMs: number;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
}

/** A span and the process that printed it. */
export interface TracedSpan {
  span: SpanLine;
  process: string;
}

const RPC_ATTRIBUTES = ["rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code"];

function isSpan(line: LogLine): boolean {
  return line.otel === "span";
}

/**
 * The trace of the call `method` that `operator` made to `plugin`, from the
 * spans both printed: the operator's CLIENT span, its parent (the reconcile)
 * and its child (the plugin's SERVER span). Each one is awaited, since a span
 * is printed when it ends, which may be after the reconcile's effect shows.
 */
export async function traceOfCall(operator: Child, plugin: Child, method: string): Promise<TracedSpan[]> {
  const span = (line: LogLine) => line as unknown as SpanLine;
  const client = span(
    await operator.waitFor(
      `the CLIENT span of ${method}`,
      (l) => isSpan(l) && span(l).kind === "CLIENT" && span(l).name === method,
    ),
  );
  const parent = span(
    await operator.waitFor(
      `the parent span of ${method}`,
      (l) => isSpan(l) && span(l).spanId === client.parentSpanId,
    ),
  );
  const server = span(
    await plugin.waitFor(
      `the SERVER span of ${method}`,
      (l) => isSpan(l) && span(l).parentSpanId === client.spanId,
    ),
  );
  return [
    { span: parent, process: operator.label },
    { span: client, process: operator.label },
    { span: server, process: `plugin ${plugin.label}` },
  ];
}

/**
 * A chain of spans (each the parent of the next) as an indented tree: name,
 * kind, process, duration, then the RPC attributes. Throws if the spans are
 * not one trace or not a chain, which would mean the context was lost.
 */
export function formatTrace(chain: TracedSpan[]): string[] {
  const [root] = chain;
  if (!root) throw new Error("no spans to show");
  chain.forEach(({ span }, i) => {
    if (span.traceId !== root.span.traceId)
      throw new Error(`span ${span.name} is in trace ${span.traceId}, not ${root.span.traceId}`);
    const parent = chain[i - 1]?.span;
    if (parent && span.parentSpanId !== parent.spanId)
      throw new Error(`span ${span.name} is not a child of ${parent.name}: the trace context was lost`);
  });
  const lines = [`trace ${root.span.traceId}`];
  chain.forEach(({ span, process }, i) => {
    const indent = i === 0 ? "" : `${"   ".repeat(i - 1)}└─ `;
    lines.push(
      `${indent}${span.name} [${span.kind}] in ${process}, ${span.durationMs.toFixed(1)} ms, span ${span.spanId}`,
    );
    const rpc = RPC_ATTRIBUTES.filter((key) => key in span.attributes).map(
      (key) => `${key}=${String(span.attributes[key])}`,
    );
    if (rpc.length > 0) lines.push(`${"   ".repeat(i)}   ${rpc.join(" ")}`);
  });
  return lines;
}
