import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { context, propagation, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { PluginFrameworkError, quietLogger } from "@operator-plugin-framework/client";
import {
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { TestServiceService } from "@operator-plugin-framework/proto/testing";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Host calls (plugin -> operator) are observed on both sides, told apart
// from the operator's calls by `caller="plugin"` and the
// `pluginframework.caller` span attribute.

/** One tracer provider per side, so that each side's spans are its own. */
function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}
const operatorTracing = tracing();
const pluginTracing = tracing();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

async function series(registry: Registry, name: string) {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values.map((v) => ({ ...v.labels, value: v.value }));
}

/** The operator's greeter host service: NOT_FOUND for "missing", and a span of its own for the rest. */
const hostGreeter = {
  sayHello(call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>, done: sendUnaryData<SayHelloResponse>) {
    if (call.request.name === "missing") {
      return done({ code: status.NOT_FOUND, details: "no such name" } as never, null);
    }
    operatorTracing.provider.getTracer("operator-app").startSpan("operator work").end();
    done(null, { message: `hello ${call.request.name}`, servedBy: "operator" });
  },
};

describe("host-call observability", () => {
  it("counts host calls on both sides with caller=plugin, and traces them plugin -> operator", async () => {
    const operatorMetrics = new Registry();
    const pluginMetrics = new Registry();
    await using server = await startTestServer({
      metrics: { registry: operatorMetrics },
      tracing: { tracerProvider: operatorTracing.provider },
      hostServices: [[GreeterServiceService, hostGreeter]],
    });
    const plugin = await startTestPlugin({
      name: "hosty",
      target: server.target,
      logger: quietLogger,
      metrics: { registry: pluginMetrics },
      tracing: { tracerProvider: pluginTracing.provider },
      services: [],
    });
    try {
      const sayHello = GreeterServiceService.sayHello;
      const pluginTracer = pluginTracing.provider.getTracer("plugin-app");
      await pluginTracer.startActiveSpan("plugin work", async (span) => {
        try {
          for (const name of ["a", "b", "c"]) await plugin.callHost(sayHello, { name, delayMs: 0 });
        } finally {
          span.end();
        }
      });
      const missing = await plugin.callHost(sayHello, { name: "missing", delayMs: 0 }).catch((e) => e);
      expect(missing).toBeInstanceOf(PluginFrameworkError);
      expect(missing.code).toBe(status.NOT_FOUND);
      // A service the operator does not offer: UNIMPLEMENTED, and labelled "other" on the plugin.
      const unoffered = await plugin
        .callHost(TestServiceService.emptyCall, {}, { timeoutMs: 5_000 })
        .catch((e) => e);
      expect(unoffered.code).toBe(status.UNIMPLEMENTED);

      const greeter = {
        plugin: "hosty",
        service: "example.v1.GreeterService",
        method: "SayHello",
        type: "unary",
        caller: "plugin",
      };
      expect(await series(operatorMetrics, "pluginframework_calls_started_total")).toEqual([
        { ...greeter, value: 4 },
      ]);
      expect(await series(operatorMetrics, "pluginframework_calls_handled_total")).toEqual([
        { ...greeter, code: "OK", value: 3 },
        { ...greeter, code: "NOT_FOUND", value: 1 },
      ]);
      expect(await operatorMetrics.metrics()).toContain(
        'pluginframework_call_duration_seconds_count{plugin="hosty",service="example.v1.GreeterService",method="SayHello",type="unary",caller="plugin"} 4',
      );

      const pluginGreeter = { service: "example.v1.GreeterService", method: "SayHello", caller: "plugin" };
      expect(await series(pluginMetrics, "pluginframework_plugin_calls_handled_total")).toEqual([
        { ...pluginGreeter, code: "OK", value: 3 },
        { ...pluginGreeter, code: "NOT_FOUND", value: 1 },
        { service: "other", method: "other", caller: "plugin", code: "UNIMPLEMENTED", value: 1 },
      ]);
      expect(await pluginMetrics.metrics()).toContain(
        'pluginframework_plugin_call_duration_seconds_count{service="example.v1.GreeterService",method="SayHello",caller="plugin"} 4',
      );

      // Traces: plugin work -> the plugin's CLIENT span -> the operator's SERVER span -> operator work.
      const pluginSpans = pluginTracing.exporter.getFinishedSpans();
      const work = pluginSpans.find((s) => s.name === "plugin work")!;
      const clients = pluginSpans.filter((s) => s.kind === SpanKind.CLIENT);
      expect(clients).toHaveLength(5);
      const first = clients[0]!;
      expect(first.name).toBe("example.v1.GreeterService/SayHello");
      expect(first.parentSpanContext?.spanId).toBe(work.spanContext().spanId);
      expect(first.attributes).toMatchObject({
        "rpc.system": "grpc",
        "rpc.service": "example.v1.GreeterService",
        "rpc.method": "SayHello",
        "rpc.grpc.status_code": status.OK,
        "pluginframework.plugin.name": "hosty",
        "pluginframework.caller": "plugin",
      });

      const operatorSpans = operatorTracing.exporter.getFinishedSpans();
      const servers = operatorSpans.filter((s) => s.kind === SpanKind.SERVER);
      expect(servers).toHaveLength(4);
      const handler = servers.find((s) => s.parentSpanContext?.spanId === first.spanContext().spanId)!;
      expect(handler).toBeDefined();
      expect(handler.spanContext().traceId).toBe(work.spanContext().traceId);
      expect(handler.attributes).toEqual({
        "rpc.system": "grpc",
        "rpc.service": "example.v1.GreeterService",
        "rpc.method": "SayHello",
        "rpc.grpc.status_code": status.OK,
        "pluginframework.plugin.name": "hosty",
        "pluginframework.session.id": server.registry.get("hosty").sessions[0]!.id,
        "pluginframework.caller": "plugin",
      });
      const operatorWork = operatorSpans.filter((s) => s.name === "operator work");
      expect(operatorWork.map((s) => s.parentSpanContext?.spanId)).toContain(handler.spanContext().spanId);
    } finally {
      await plugin.close();
    }
  });
});
