import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer, quietLogger } from "@operator-plugin-framework/server";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { serveMetrics } from "./metrics-server.js";

describe("the example operator's /metrics", () => {
  it("serves the framework's metrics from the operator's registry as Prometheus text", async () => {
    const registry = new Registry();
    const server = createPluginServer({
      listen: "127.0.0.1:0",
      authenticator: "none",
      logger: quietLogger,
      metrics: { registry },
    });
    const serving = server.start();
    const [address] = await server.ready();
    const metrics = await serveMetrics("127.0.0.1:0", registry);
    const plugin = connectPlugin({
      name: "aws",
      target: `http://${address}`,
      services: [[GreeterServiceService, {}]],
      allowPartialImplementation: true,
      logger: quietLogger,
    });
    try {
      await plugin.registered();
      const response = await fetch(`http://${metrics.address}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(registry.contentType);
      const text = await response.text();
      expect(text).toMatch(/^pluginframework_registrations_total\{.*plugin="aws".*\} 1$/m);

      const elsewhere = await fetch(`http://${metrics.address}/`);
      expect(elsewhere.status).toBe(404);
      await elsewhere.text();
    } finally {
      await plugin.close();
      await metrics.close();
      await server.stop();
      await serving;
    }
  });

  it("refuses an address without a port, saying what it wants", async () => {
    await expect(serveMetrics("0.0.0.0", new Registry())).rejects.toThrow(
      '--metrics-listen needs "host:port" (such as 0.0.0.0:8080), got "0.0.0.0"',
    );
  });
});
