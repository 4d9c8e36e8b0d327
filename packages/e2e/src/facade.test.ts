import { status } from "@grpc/grpc-js";
import { GreeterServiceService, type SayHelloRequest } from "@operator-plugin-framework/proto/example";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

describe("promise and async-iterable facade", () => {
  let server: TestServer;
  let plugin: PluginConnection;
  const greeterImpl = createGreeter("p1");

  beforeAll(async () => {
    server = await startTestServer();
    plugin = await startTestPlugin({
      name: "aws",
      target: server.target,
      services: [[GreeterServiceService, greeterImpl.impl]],
    });
  });
  afterAll(async () => {
    await plugin.close();
    await server.close();
  });

  it("unary returns a promise", async () => {
    const greeter = server.registry.get("aws").service(GreeterServiceService);
    expect(await greeter.sayHello({ name: "u", delayMs: 0 })).toEqual({ message: "hello u", servedBy: "p1" });
  });

  it("server-streaming returns an async iterable", async () => {
    const greeter = server.registry.get("aws").service(GreeterServiceService);
    const messages: string[] = [];
    for await (const reply of greeter.countGreetings({ name: "s", count: 3 })) messages.push(reply.message);
    expect(messages).toEqual(["hello s #0", "hello s #1", "hello s #2"]);
  });

  it("leaving a server stream early cancels the call", async () => {
    const handle = server.registry.get("aws");
    const greeter = handle.service(GreeterServiceService);
    const cancelledBefore = greeterImpl.stats.cancelledStreams;
    for await (const reply of greeter.countGreetings({ name: "early", count: 10_000_000 })) {
      expect(reply.message).toBe("hello early #0");
      break;
    }
    await expect.poll(() => greeterImpl.stats.cancelledStreams).toBe(cancelledBefore + 1);
    await expect.poll(() => handle.sessions[0]!.inFlight).toBe(0);
  });

  it("client-streaming takes an async iterable of requests", async () => {
    const greeter = server.registry.get("aws").service(GreeterServiceService);
    async function* names(): AsyncIterable<SayHelloRequest> {
      for (const name of ["a", "b"]) yield { name, delayMs: 0 };
    }
    expect((await greeter.collectNames(names())).message).toBe("hello a, b");
  });

  it("bidi takes requests and yields responses", async () => {
    const greeter = server.registry.get("aws").service(GreeterServiceService);
    const replies: string[] = [];
    for await (const reply of greeter.chat([
      { name: "x", delayMs: 0 },
      { name: "y", delayMs: 0 },
    ]))
      replies.push(reply.message);
    expect(replies).toEqual(["hello x", "hello y"]);
  });

  it("one signal cancels many calls at once", async () => {
    const handle = server.registry.get("aws");
    const controller = new AbortController();
    const calls = Array.from({ length: 30 }, () =>
      handle.call(
        GreeterServiceService.sayHello,
        { name: "slow", delayMs: 60_000 },
        { signal: controller.signal },
      ),
    );
    await expect.poll(() => handle.sessions[0]!.inFlight).toBe(30);
    controller.abort();
    const results = await Promise.allSettled(calls);
    expect(results.every((r) => r.status === "rejected" && r.reason.code === status.CANCELLED)).toBe(true);
  });

  it("an aborted signal cancels a stream with CANCELLED", async () => {
    const greeter = server.registry.get("aws").service(GreeterServiceService);
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const reply of greeter.countGreetings(
        { name: "abort", count: 10_000_000 },
        { signal: controller.signal },
      )) {
        seen.push(reply.message);
        if (seen.length === 1) controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ code: status.CANCELLED });
  });
});
