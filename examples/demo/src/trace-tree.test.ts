import { describe, expect, it } from "vitest";
import { formatTrace, type SpanLine, type TracedSpan } from "./trace-tree.js";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const rpc = {
  "rpc.system": "grpc",
  "rpc.service": "example.v1.DnsProviderService",
  "rpc.method": "UpdateRecord",
  "rpc.grpc.status_code": 0,
  "pluginframework.plugin.name": "gcp",
};

function span(spanId: string, parentSpanId: string | undefined, extra: Partial<SpanLine>): SpanLine {
  return {
    traceId: TRACE,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: "example.v1.DnsProviderService/UpdateRecord",
    kind: "CLIENT",
    durationMs: 1.25,
    attributes: rpc,
    status: { code: 0 },
    ...extra,
  };
}

const chain: TracedSpan[] = [
  {
    span: span("a1", undefined, { name: "reconcile DNSRecord ns/api", kind: "INTERNAL", attributes: {} }),
    process: "op",
  },
  { span: span("b2", "a1", { durationMs: 12 }), process: "op" },
  { span: span("c3", "b2", { kind: "SERVER" }), process: "plugin gcp" },
];

describe("formatTrace", () => {
  it("prints a parent → child chain as a tree with processes, durations and the rpc attributes", () => {
    expect(formatTrace(chain)).toEqual([
      `trace ${TRACE}`,
      "reconcile DNSRecord ns/api [INTERNAL] in op, 1.3 ms, span a1",
      "└─ example.v1.DnsProviderService/UpdateRecord [CLIENT] in op, 12.0 ms, span b2",
      "      rpc.system=grpc rpc.service=example.v1.DnsProviderService rpc.method=UpdateRecord rpc.grpc.status_code=0",
      "   └─ example.v1.DnsProviderService/UpdateRecord [SERVER] in plugin gcp, 1.3 ms, span c3",
      "         rpc.system=grpc rpc.service=example.v1.DnsProviderService rpc.method=UpdateRecord rpc.grpc.status_code=0",
    ]);
  });

  it("refuses spans of another trace", () => {
    const other = { ...chain[2]!, span: { ...chain[2]!.span, traceId: "f".repeat(32) } };
    expect(() => formatTrace([chain[0]!, chain[1]!, other])).toThrow(/is in trace f+, not 0af7/);
  });

  it("refuses a span whose parent is not the one before it: the context was lost", () => {
    const orphan = { ...chain[2]!, span: { ...chain[2]!.span, parentSpanId: "zz" } };
    expect(() => formatTrace([chain[0]!, chain[1]!, orphan])).toThrow(/is not a child of .*context was lost/);
  });
});
