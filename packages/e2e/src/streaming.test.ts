import type { ClientDuplexStream } from "@grpc/grpc-js";
import {
  GreeterServiceClient,
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

describe("streaming calls through the plugin stream", () => {
  let server: TestServer;
  let plugin: PluginConnection;
  let client: GreeterServiceClient;

  beforeAll(async () => {
    server = await startTestServer();
    plugin = await startTestPlugin({
      name: "aws",
      target: server.target,
      services: [[GreeterServiceService, createGreeter("p1").impl]],
    });
    client = server.registry.get("aws").client(GreeterServiceClient);
  });
  afterAll(async () => {
    await plugin.close();
    await server.close();
  });

  it("server-streaming delivers every message in order", async () => {
    const messages: string[] = [];
    for await (const reply of client.countGreetings({ name: "s", count: 1000 }))
      messages.push((reply as SayHelloResponse).message);
    expect(messages).toHaveLength(1000);
    expect(messages[999]).toBe("hello s #999");
  });

  it("client-streaming collects every request", async () => {
    const reply = await new Promise<SayHelloResponse>((resolve, reject) => {
      const call = client.collectNames((err, res) => (err ? reject(err) : resolve(res!)));
      for (const name of ["a", "b", "c"]) call.write({ name, delayMs: 0 });
      call.end();
    });
    expect(reply.message).toBe("hello a, b, c");
  });

  it("bidi streaming answers each message as it arrives", async () => {
    const call: ClientDuplexStream<SayHelloRequest, SayHelloResponse> = client.chat();
    const replies: string[] = [];
    for (const name of ["x", "y"]) {
      call.write({ name, delayMs: 0 });
      const reply = await new Promise<SayHelloResponse>((resolve) => call.once("data", resolve));
      replies.push(reply.message);
    }
    call.end();
    await new Promise((resolve) => call.on("status", resolve));
    expect(replies).toEqual(["hello x", "hello y"]);
  });
});
