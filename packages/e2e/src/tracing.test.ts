import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type ServerReadableStream, type sendUnaryData, status } from "@grpc/grpc-js";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { quietLogger } from "@operator-plugin-framework/client";
import {
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ExportedSpan } from "./fixtures/exported-span.js";
import { killProcess } from "./fixtures/spawn-plugin.js";
import { createGreeter } from "./greeter-impl.js";

const main = fileURLToPath(new URL("./fixtures/traced-plugin-main.ts", import.meta.url));

/** Starts the traced plugin in its own process; `spans()` asks it for the spans it finished. */
async function startTracedPlugin(target: string, name: string) {
  const child = spawn(process.execPath, ["--conditions=opf-source", "--import", "tsx", main, target, name], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error("the traced plugin process exited");
    return line.value;
  };
  try {
    expect(await next()).toBe("registered");
  } catch (err) {
    await killProcess(child);
    throw err;
  }
  return {
    child,
    async spans(): Promise<ExportedSpan[]> {
      child.stdin!.write("spans\n");
      return JSON.parse(await next()) as ExportedSpan[];
    },
  };
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer("operator-app");

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterEach(() => exporter.reset());
afterAll(() => {
  trace.disable();
  context.disable();
  propagation.disable();
});

describe("tracing across the tunnel and two processes", () => {
  it("makes the plugin handler's span a child of the operator's call span, itself a child of the reconcile", async () => {
    await using server = await startTestServer({ tracing: { tracerProvider: provider } });
    const plugin = await startTracedPlugin(server.target, "traced");
    try {
      const handle = server.registry.get("traced");
      const reply = await tracer.startActiveSpan("reconcile", async (span) => {
        try {
          return await handle.call(GreeterServiceService.sayHello, { name: "trace", delayMs: 0 });
        } finally {
          span.end();
        }
      });
      expect(reply.message).toBe("hello trace");

      const reconcile = exporter.getFinishedSpans().find((s) => s.name === "reconcile")!;
      const call = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
      const remote = await plugin.spans();
      const handler = remote.find((s) => s.kind === SpanKind.SERVER)!;
      const work = remote.find((s) => s.name === "plugin work")!;
      const traceId = reconcile.spanContext().traceId;
      const sessionId = handle.sessions[0]!.id;

      expect(call.name).toBe("example.v1.GreeterService/SayHello");
      expect(call.parentSpanContext?.spanId).toBe(reconcile.spanContext().spanId);
      expect(call.spanContext().traceId).toBe(traceId);
      expect(call.attributes).toEqual({
        "rpc.system": "grpc",
        "rpc.service": "example.v1.GreeterService",
        "rpc.method": "SayHello",
        "rpc.grpc.status_code": status.OK,
        "pluginframework.plugin.name": "traced",
        "pluginframework.session.id": sessionId,
        "pluginframework.caller": "operator",
      });

      expect(handler).toMatchObject({
        name: "example.v1.GreeterService/SayHello",
        traceId,
        parentSpanId: call.spanContext().spanId,
        status: SpanStatusCode.UNSET,
        attributes: {
          "rpc.system": "grpc",
          "rpc.service": "example.v1.GreeterService",
          "rpc.method": "SayHello",
          "rpc.grpc.status_code": status.OK,
          "pluginframework.plugin.name": "traced",
          "pluginframework.session.id": sessionId,
          "pluginframework.caller": "operator",
        },
      });
      expect(work).toMatchObject({ traceId, parentSpanId: handler.spanId });
    } finally {
      await killProcess(plugin.child);
    }
  });

  it("records a failed call as an error for the caller but not for the handler, as the conventions say", async () => {
    // `true` takes the globally registered provider.
    trace.setGlobalTracerProvider(provider);
    await using server = await startTestServer({ tracing: true });
    const plugin = await startTracedPlugin(server.target, "failing");
    try {
      const failed = server.registry
        .get("failing")
        .call(GreeterServiceService.sayHello, { name: "fail", delayMs: 0 });
      await expect(failed).rejects.toMatchObject({ code: status.NOT_FOUND });
      const [call] = exporter.getFinishedSpans();
      expect(call!.kind).toBe(SpanKind.CLIENT);
      expect(call!.attributes["rpc.grpc.status_code"]).toBe(status.NOT_FOUND);
      expect(call!.status).toEqual({ code: SpanStatusCode.ERROR, message: "NOT_FOUND" });
      // No span was active: the call's span starts the trace.
      expect(call!.parentSpanContext).toBeUndefined();
      const handler = (await plugin.spans()).find((s) => s.kind === SpanKind.SERVER)!;
      expect(handler.parentSpanId).toBe(call!.spanContext().spanId);
      expect(handler.attributes["rpc.grpc.status_code"]).toBe(status.NOT_FOUND);
      expect(handler.status).toBe(SpanStatusCode.UNSET);
    } finally {
      await killProcess(plugin.child);
    }
  });

  it("runs a client-streaming handler's data listener inside the handler's span", async () => {
    await using server = await startTestServer({ tracing: { tracerProvider: provider } });
    const greeter = createGreeter("in-process").impl;
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      firstArrived = resolve;
    });
    const connection = await startTestPlugin({
      name: "streamer",
      target: server.target,
      logger: quietLogger,
      tracing: { tracerProvider: provider },
      services: [
        [
          GreeterServiceService,
          {
            ...greeter,
            collectNames(
              call: ServerReadableStream<SayHelloRequest, SayHelloResponse>,
              callback: sendUnaryData<SayHelloResponse>,
            ) {
              // Called from frame delivery, after the handler returned.
              call.on("data", () => {
                tracer.startSpan("per message").end();
                firstArrived();
              });
              greeter.collectNames!(call, callback);
            },
          },
        ],
      ],
    });
    try {
      // The second message leaves once the first has reached the handler: it
      // arrives in a frame of its own, while the handler waits for it.
      async function* names(): AsyncIterable<SayHelloRequest> {
        yield { name: "a", delayMs: 0 };
        await arrived;
        yield { name: "b", delayMs: 0 };
      }
      const greeterClient = server.registry.get("streamer").service(GreeterServiceService);
      expect((await greeterClient.collectNames(names())).message).toBe("hello a, b");
      const spans = exporter.getFinishedSpans();
      const handler = spans.find((s) => s.kind === SpanKind.SERVER)!;
      const perMessage = spans.filter((s) => s.name === "per message");
      expect(perMessage).toHaveLength(2);
      for (const span of perMessage) {
        expect(span.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
      }
    } finally {
      await connection.close();
    }
  });
});
