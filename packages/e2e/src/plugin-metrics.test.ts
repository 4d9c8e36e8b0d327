import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { quietLogger } from "@operator-plugin-framework/server";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const sayHello = GreeterServiceService.sayHello;
const method = { service: "example.v1.GreeterService", method: "SayHello", caller: "operator" };

async function series(registry: Registry, name: string) {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values.map((v) => ({ ...v.labels, value: v.value }));
}

describe("plugin metrics", () => {
  it("count calls handled by method and code, and the connection's state", async () => {
    const registry = new Registry();
    const server = await startTestServer({ logger: quietLogger });
    const target = server.target.replace(/^http:\/\//, "");
    const plugin = await startTestPlugin({
      name: "aws",
      target: server.target,
      logger: quietLogger,
      metrics: { registry },
      services: [[GreeterServiceService, createGreeter("p1").impl]],
    });
    try {
      const state = () => series(registry, "pluginframework_plugin_connection_state");
      expect(await state()).toContainEqual({ target, state: "registered", value: 1 });
      const handle = server.registry.get("aws");
      const names = [...Array.from({ length: 7 }, (_, i) => `n${i}`), "fail", "fail", "throw-status"];
      for (const name of names) await handle.call(sayHello, { name, delayMs: 0 }).catch(() => {});
      expect(await series(registry, "pluginframework_plugin_calls_handled_total")).toEqual([
        { ...method, code: "OK", value: 7 },
        { ...method, code: "NOT_FOUND", value: 2 },
        { ...method, code: "FAILED_PRECONDITION", value: 1 },
      ]);
      expect(await registry.metrics()).toContain(
        'pluginframework_plugin_call_duration_seconds_count{service="example.v1.GreeterService",method="SayHello",caller="operator"} 10',
      );
    } finally {
      await plugin.close();
      await server.close();
    }
    const final = await series(registry, "pluginframework_plugin_connection_state");
    expect(final.filter((s) => s.value === 1)).toEqual([{ target, state: "closed", value: 1 }]);
  });

  it("counts a reconnect attempt per failed connection", async () => {
    const registry = new Registry();
    // A port nothing listens on: every attempt fails.
    const server = await startTestServer();
    const target = server.target;
    await server.close();
    const connection = connectPlugin({
      name: "aws",
      target,
      logger: quietLogger,
      backoff: { initialMs: 10_000, maxMs: 10_000 },
      metrics: { registry },
      services: [],
    });
    await new Promise<void>((resolve) => {
      const off = connection.onState((s) => {
        if (s.state !== "reconnecting") return;
        off();
        resolve();
      });
    });
    await connection.close();
    expect(await series(registry, "pluginframework_plugin_reconnect_attempts_total")).toEqual([
      { target: target.replace(/^http:\/\//, ""), value: 1 },
    ]);
  });
});
