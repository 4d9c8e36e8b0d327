import { Metadata, status } from "@grpc/grpc-js";
import { GreeterServiceClient, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

describe("unary calls through the plugin stream", () => {
  let server: TestServer;
  let plugin: PluginConnection;
  let greeter: ReturnType<typeof createGreeter>;

  beforeEach(async () => {
    server = await startTestServer();
    greeter = createGreeter("p1");
    plugin = await startTestPlugin({
      name: "aws",
      version: "1.2.3",
      target: server.target,
      services: [[GreeterServiceService, greeter.impl]],
    });
  });
  afterEach(async () => {
    await plugin.close();
    await server.close();
  });

  it("returns a typed response and delivers metadata", async () => {
    const metadata = new Metadata();
    metadata.set("x-tenant", "blue");
    const reply = await server.registry
      .get("aws")
      .call(GreeterServiceService.sayHello, { name: "world", delayMs: 0 }, { metadata, timeoutMs: 5000 });
    expect(reply).toEqual({ message: "hello world", servedBy: "p1" });
    expect(greeter.seen[0]?.metadata["x-tenant"]).toBe("blue");
  });

  it("works with the generated client class", async () => {
    const client = server.registry.get("aws").client(GreeterServiceClient);
    const reply = await new Promise((resolve, reject) =>
      client.sayHello({ name: "typed", delayMs: 0 }, (err, res) => (err ? reject(err) : resolve(res))),
    );
    expect(reply).toEqual({ message: "hello typed", servedBy: "p1" });
  });

  it("passes the handler's status code and message", async () => {
    const call = server.registry
      .get("aws")
      .call(GreeterServiceService.sayHello, { name: "fail", delayMs: 0 });
    await expect(call).rejects.toMatchObject({ code: status.NOT_FOUND, details: "no such greeting" });
  });
});
