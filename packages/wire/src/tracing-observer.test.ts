import { EventEmitter } from "node:events";
import { Metadata, status } from "@grpc/grpc-js";
import * as api from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import type { MetadataEntry } from "@operator-plugin-framework/proto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { composeCallObservers } from "./compose-observers.js";
import { noopCallObserver } from "./observer.js";
import { createTracingSessionObserver } from "./tracing-observer.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer("test");
const session = { plugin: "aws", sessionId: "s-1" };
const caller = createTracingSessionObserver(api, tracer, "caller", session);
const handler = createTracingSessionObserver(api, tracer, "handler", session);

beforeAll(() => {
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterEach(() => exporter.reset());
afterAll(() => {
  api.context.disable();
  api.propagation.disable();
});

function finished(name: string): ReadableSpan {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (!span) throw new Error(`no finished span named ${name}`);
  return span;
}

/** What a caller sends: the entries of its new_stream, as grpc-js Metadata on the other side. */
function sent(entries: MetadataEntry[]): Metadata {
  const metadata = new Metadata();
  for (const entry of entries) metadata.add(entry.key, entry.value);
  return metadata;
}

describe("tracing calls on the caller's side", () => {
  it("records a CLIENT span with the RPC conventions' attributes, the plugin and the session", () => {
    caller.callStarted("/acme.dns.v1.Zones/Create").end(status.OK);
    const span = finished("acme.dns.v1.Zones/Create");
    expect(span.kind).toBe(api.SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      "rpc.system": "grpc",
      "rpc.service": "acme.dns.v1.Zones",
      "rpc.method": "Create",
      "rpc.grpc.status_code": status.OK,
      "pluginframework.plugin.name": "aws",
      "pluginframework.session.id": "s-1",
      "pluginframework.caller": "operator",
    });
    expect(span.status.code).toBe(api.SpanStatusCode.UNSET);
  });

  it("marks every code but OK as an error", () => {
    caller.callStarted("/x.S/NotFound").end(status.NOT_FOUND);
    caller.callStarted("/x.S/Cancelled").end(status.CANCELLED);
    expect(finished("x.S/NotFound").status).toEqual({ code: api.SpanStatusCode.ERROR, message: "NOT_FOUND" });
    expect(finished("x.S/NotFound").attributes["rpc.grpc.status_code"]).toBe(status.NOT_FOUND);
    expect(finished("x.S/Cancelled").status.code).toBe(api.SpanStatusCode.ERROR);
  });

  it("is a child of the span active when the call starts, and sends its own context along", () => {
    const entries: MetadataEntry[] = [{ key: "x-user", value: "kept", binaryValue: Buffer.alloc(0) }];
    const reconcile = tracer.startSpan("reconcile");
    const call = api.context.with(api.trace.setSpan(api.context.active(), reconcile), () =>
      caller.callStarted("/x.S/M"),
    );
    call.outgoing!(entries);
    call.end(status.OK);
    reconcile.end();
    const span = finished("x.S/M");
    expect(span.parentSpanContext?.spanId).toBe(reconcile.spanContext().spanId);
    expect(span.spanContext().traceId).toBe(reconcile.spanContext().traceId);
    const { traceId, spanId } = span.spanContext();
    expect(entries.map((e) => [e.key, e.value])).toEqual([
      ["x-user", "kept"],
      ["traceparent", `00-${traceId}-${spanId}-01`],
    ]);
  });

  it("replaces a traceparent the caller set itself", () => {
    const entries: MetadataEntry[] = [
      { key: "traceparent", value: "00-stale", binaryValue: Buffer.alloc(0) },
    ];
    const call = caller.callStarted("/x.S/M");
    call.outgoing!(entries);
    call.end(status.OK);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.value).toContain(finished("x.S/M").spanContext().spanId);
  });
});

describe("tracing calls on the handler's side", () => {
  it("records a SERVER span whose parent is the caller's span from the metadata", () => {
    const entries: MetadataEntry[] = [];
    const outgoing = caller.callStarted("/x.S/M");
    outgoing.outgoing!(entries);
    const incoming = handler.callStarted("/x.S/M", sent(entries));
    incoming.end(status.OK);
    outgoing.end(status.OK);
    const [server, client] = exporter.getFinishedSpans();
    expect(server!.kind).toBe(api.SpanKind.SERVER);
    expect(server!.parentSpanContext).toMatchObject({
      spanId: client!.spanContext().spanId,
      traceId: client!.spanContext().traceId,
      isRemote: true,
    });
    expect(server!.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "x.S",
      "rpc.method": "M",
      "rpc.grpc.status_code": 0,
      "pluginframework.plugin.name": "aws",
      "pluginframework.session.id": "s-1",
    });
  });

  it("marks only the codes that mean the server failed as errors", () => {
    const errors = [
      status.UNKNOWN,
      status.DEADLINE_EXCEEDED,
      status.UNIMPLEMENTED,
      status.INTERNAL,
      status.UNAVAILABLE,
      status.DATA_LOSS,
    ];
    for (let code = 0; code <= 16; code++) handler.callStarted(`/x.S/C${code}`, new Metadata()).end(code);
    for (let code = 0; code <= 16; code++) {
      const expected = errors.includes(code) ? api.SpanStatusCode.ERROR : api.SpanStatusCode.UNSET;
      expect([code, finished(`x.S/C${code}`).status.code]).toEqual([code, expected]);
    }
  });

  it("runs the handler inside its span, so the handler's spans are its children", async () => {
    const call = handler.callStarted("/x.S/M", new Metadata());
    const result = await call.run!(async () => {
      await Promise.resolve();
      tracer.startSpan("handler work").end();
      return "done";
    });
    call.end(status.OK);
    expect(result).toBe("done");
    const server = finished("x.S/M");
    expect(finished("handler work").parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it("binds the call's listeners to its span, so a stream's data listener works inside it", () => {
    const stream = new EventEmitter();
    const seen: (string | undefined)[] = [];
    const call = handler.callStarted("/x.S/Stream", new Metadata());
    call.run!(() => {
      stream.on("data", () => seen.push(api.trace.getActiveSpan()?.spanContext().spanId));
    }, stream);
    // Emitted later, from outside any context, as frames arrive.
    api.context.with(api.ROOT_CONTEXT, () => stream.emit("data"));
    call.end(status.OK);
    expect(seen).toEqual([finished("x.S/Stream").spanContext().spanId]);
  });

  it("starts a new trace, not the delivering context's, when the caller sent none", () => {
    const ambient = tracer.startSpan("connection");
    api.context.with(api.trace.setSpan(api.context.active(), ambient), () =>
      handler.callStarted("/x.S/M", new Metadata()).end(status.OK),
    );
    ambient.end();
    expect(finished("x.S/M").parentSpanContext).toBeUndefined();
  });
});

describe("tracing calls the sampler drops", () => {
  // What an operator at scale runs: a ParentBased sampler that records no new trace here.
  const unsampled = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  }).getTracer("test");
  const dropCaller = createTracingSessionObserver(api, unsampled, "caller", session);
  const dropHandler = createTracingSessionObserver(api, unsampled, "handler", session);

  it("records nothing, yet sends the not-sampled decision so the plugin does not sample on its own", () => {
    const entries: MetadataEntry[] = [];
    const call = dropCaller.callStarted("/x.S/M");
    call.outgoing!(entries);
    call.end(status.INTERNAL);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(entries.map((e) => e.key)).toEqual(["traceparent"]);
    expect(entries[0]!.value).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-00$/);
  });

  it("runs the handler in the dropped span's trace, so its own spans follow the decision", async () => {
    const entries: MetadataEntry[] = [];
    dropCaller.callStarted("/x.S/M").outgoing!(entries);
    const traceId = entries[0]!.value.split("-")[1];
    const dropped = dropHandler.callStarted("/x.S/M", sent(entries));
    const work = await dropped.run!(async () => {
      await Promise.resolve();
      return tracer.startSpan("handler work");
    });
    work.end();
    dropped.end(status.OK);
    // `tracer` records every new trace: its span is dropped only because it joined the caller's.
    expect(work.isRecording()).toBe(false);
    expect(work.spanContext().traceId).toBe(traceId);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([]);
  });
});

describe("tracing without a tracer provider", () => {
  it("records nothing and sends no trace context", () => {
    const globalTracer = createTracingSessionObserver(api, api.trace.getTracer("none"), "caller", session);
    const entries: MetadataEntry[] = [];
    const call = globalTracer.callStarted("/x.S/M");
    call.outgoing!(entries);
    call.end(status.INTERNAL);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(entries).toEqual([]);
  });
});

describe("composing observers", () => {
  it("passes the trace context and the handler's context through a metrics observer", () => {
    const counted: number[] = [];
    const metrics = { ...noopCallObserver, end: (code: number) => void counted.push(code) };
    const entries: MetadataEntry[] = [];
    const outgoing = composeCallObservers(metrics, caller.callStarted("/x.S/M"));
    outgoing.outgoing!(entries);
    const incoming = composeCallObservers(metrics, handler.callStarted("/x.S/M", sent(entries)));
    const active = incoming.run!(() => api.trace.getActiveSpan()?.spanContext().spanId);
    incoming.end(status.OK);
    outgoing.end(status.OK);
    expect(counted).toEqual([status.OK, status.OK]);
    const server = exporter.getFinishedSpans().find((span) => span.kind === api.SpanKind.SERVER);
    expect(active).toBe(server?.spanContext().spanId);
    expect(composeCallObservers(noopCallObserver, metrics)).toBe(metrics);
  });
});
