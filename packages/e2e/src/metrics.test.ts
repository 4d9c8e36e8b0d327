import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { quietLogger } from "@operator-plugin-framework/server";
import { type PluginConnection, startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { openRawStream, register } from "./fixtures/raw-stream.js";
import { createGreeter } from "./greeter-impl.js";

const sayHello = GreeterServiceService.sayHello;
/** 10 calls: 7 OK, 2 NOT_FOUND, 1 DEADLINE_EXCEEDED (the handler answers after the deadline). */
const SCRIPT = [
  ...Array.from({ length: 7 }, (_, i) => ({ name: `n${i}`, delayMs: 0, timeoutMs: 10_000, code: status.OK })),
  ...Array.from({ length: 2 }, () => ({
    name: "fail",
    delayMs: 0,
    timeoutMs: 10_000,
    code: status.NOT_FOUND,
  })),
  { name: "slow", delayMs: 2_000, timeoutMs: 50, code: status.DEADLINE_EXCEEDED },
];
const callLabels = {
  plugin: "aws",
  service: "example.v1.GreeterService",
  method: "SayHello",
  type: "unary",
  caller: "operator",
};

/** The value of one series of a metric, or undefined if the series does not exist. */
async function value(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { values } = await metric.get();
  const match = values.find(
    (v) =>
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return match?.value;
}

describe("operator metrics after a scripted sequence", () => {
  it("counts a registration, 10 calls with known codes, a refusal and a drain exactly", async () => {
    const registry = new Registry();
    const server = await startTestServer({ metrics: { registry } });
    let plugin: PluginConnection | undefined;
    try {
      plugin = await startTestPlugin({
        name: "aws",
        version: "1.0.0",
        logger: quietLogger,
        target: server.target,
        services: [[GreeterServiceService, createGreeter("p1").impl]],
      });
      expect(await value(registry, "pluginframework_sessions", { plugin: "aws", state: "active" })).toBe(1);

      const handle = server.registry.get("aws");
      for (const { code, timeoutMs, ...request } of SCRIPT) {
        const outcome = await handle.call(sayHello, request, { timeoutMs }).then(
          () => status.OK,
          (err: { code: status }) => err.code,
        );
        expect(outcome).toBe(code);
      }

      const bad = openRawStream(server.target);
      bad.send(register("Not A Valid Name!", 1));
      expect((await bad.status).code).toBe(status.INVALID_ARGUMENT);
      bad.close();
    } finally {
      // Stopping the server drains the plugin's session: the drain of the sequence.
      await server.close();
      await plugin?.close();
    }

    const sentBytes = SCRIPT.reduce(
      (sum, { name, delayMs }) => sum + sayHello.requestSerialize({ name, delayMs }).length,
      0,
    );
    const receivedBytes = Array.from({ length: 7 }, (_, i) =>
      sayHello.responseSerialize({ message: `hello n${i}`, servedBy: "p1" }),
    ).reduce((sum, b) => sum + b.length, 0);

    expect(await value(registry, "pluginframework_registrations_total", { plugin: "aws" })).toBe(1);
    expect(await value(registry, "pluginframework_refusals_total", { reason: "INVALID_ARGUMENT" })).toBe(1);
    expect(await value(registry, "pluginframework_calls_started_total", callLabels)).toBe(10);
    const handled = (code: string) =>
      value(registry, "pluginframework_calls_handled_total", { ...callLabels, code });
    expect(await handled("OK")).toBe(7);
    expect(await handled("NOT_FOUND")).toBe(2);
    expect(await handled("DEADLINE_EXCEEDED")).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain(
      'pluginframework_call_duration_seconds_count{plugin="aws",service="example.v1.GreeterService",method="SayHello",type="unary",caller="operator"} 10',
    );
    const sum = Number(/pluginframework_call_duration_seconds_sum\{[^}]*\} (\S+)/.exec(text)?.[1]);
    // The deadline-exceeded call alone lasted its 50 ms timeout.
    expect(sum).toBeGreaterThanOrEqual(0.05);
    expect(
      await value(registry, "pluginframework_messages_total", { plugin: "aws", direction: "sent" }),
    ).toBe(10);
    expect(
      await value(registry, "pluginframework_messages_total", { plugin: "aws", direction: "received" }),
    ).toBe(7);
    expect(
      await value(registry, "pluginframework_message_bytes_total", { plugin: "aws", direction: "sent" }),
    ).toBe(sentBytes);
    expect(
      await value(registry, "pluginframework_message_bytes_total", { plugin: "aws", direction: "received" }),
    ).toBe(receivedBytes);
    expect(await value(registry, "pluginframework_drains_total", { plugin: "aws", cause: "operator" })).toBe(
      1,
    );
    expect(await value(registry, "pluginframework_drains_total", { plugin: "aws", cause: "plugin" })).toBe(
      undefined,
    );
    expect(await value(registry, "pluginframework_sessions", { plugin: "aws", state: "active" })).toBe(0);
    expect(await value(registry, "pluginframework_sessions", { plugin: "aws", state: "draining" })).toBe(0);
    expect(await value(registry, "pluginframework_liveness_failures_total", { plugin: "aws" })).toBe(
      undefined,
    );
  });
});
