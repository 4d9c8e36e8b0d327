import { Metadata, status } from "@grpc/grpc-js";
import { GreeterServiceClient, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { TestServiceService } from "@operator-plugin-framework/proto/testing";
import { PluginFrameworkError } from "@operator-plugin-framework/server";
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

  it("passes a thrown error's message as UNKNOWN, and a thrown status as that status", async () => {
    const handle = server.registry.get("aws");
    await expect(
      handle.call(GreeterServiceService.sayHello, { name: "throw", delayMs: 0 }),
    ).rejects.toMatchObject({
      code: status.UNKNOWN,
      details: "handler exploded",
    });
    await expect(
      handle.call(GreeterServiceService.sayHello, { name: "throw-status", delayMs: 0 }),
    ).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: "resource is gone",
    });
  });

  it("carries status details (grpc-status-details-bin) and trailers to the caller", async () => {
    const client = server.registry.get("aws").client(GreeterServiceClient);
    const error = await new Promise<{ code: number; details: string; metadata: Metadata }>((resolve) =>
      client.sayHello({ name: "details", delayMs: 0 }, (err) => resolve(err as never)),
    );
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toBe("with details");
    expect(error.metadata.get("grpc-status-details-bin")[0]).toEqual(
      Buffer.from([8, 5, 18, 3, 0x66, 0x6f, 0x6f]),
    );
    expect(error.metadata.get("x-trailer")).toEqual(["t"]);
  });

  it("gives UNIMPLEMENTED for a method the plugin does not serve", async () => {
    const call = server.registry.get("aws").call(TestServiceService.emptyCall, {});
    await expect(call).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      details: "The server does not implement the method /testing.v1.TestService/EmptyCall",
    });
  });

  it("throws a typed NOT_FOUND error that lists the registered names for an unknown plugin", () => {
    let error: unknown;
    try {
      server.registry.get("gcp");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PluginFrameworkError);
    expect(error).toMatchObject({
      code: status.NOT_FOUND,
      details: 'plugin "gcp" is not registered; registered: aws',
    });
  });

  it("ends with DEADLINE_EXCEEDED when the deadline passes; the handler sees the deadline and the cancellation", async () => {
    const started = Date.now();
    const call = server.registry
      .get("aws")
      .call(GreeterServiceService.sayHello, { name: "slow", delayMs: 2_000 }, { timeoutMs: 100 });
    await expect(call).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(Date.now() - started).toBeLessThan(1_500);
    const seen = greeter.seen[0]!;
    // A number, as a direct grpc-js server gives it.
    expect(seen.deadline).toBeTypeOf("number");
    expect(seen.deadline as number).toBeGreaterThan(started);
    expect(seen.deadline as number).toBeLessThanOrEqual(started + 1_000);
    await expect.poll(() => seen.cancelled).toBe(true);
  });

  it("keeps the session usable after a call times out while its handler still runs", async () => {
    const handle = server.registry.get("aws");
    await expect(
      handle.call(GreeterServiceService.sayHello, { name: "late", delayMs: 300 }, { timeoutMs: 50 }),
    ).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    // Keep the session busy past the late reply's arrival, then check it still serves.
    await handle.call(GreeterServiceService.sayHello, { name: "wait", delayMs: 400 }, { timeoutMs: 5_000 });
    const reply = await handle.call(GreeterServiceService.sayHello, { name: "after", delayMs: 0 });
    expect(reply.message).toBe("hello after");
    expect(handle.sessions).toHaveLength(1);
  });

  it("cancels through an AbortSignal with CANCELLED", async () => {
    const controller = new AbortController();
    const call = server.registry
      .get("aws")
      .call(GreeterServiceService.sayHello, { name: "x", delayMs: 5_000 }, { signal: controller.signal });
    await expect.poll(() => greeter.seen.length).toBe(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: status.CANCELLED });
    await expect.poll(() => greeter.seen[0]!.cancelled).toBe(true);
  });

  it("answers many concurrent calls each with its own reply", async () => {
    const handle = server.registry.get("aws");
    const names = Array.from({ length: 500 }, (_, i) => `n${i}`);
    const replies = await Promise.all(
      names.map((name, i) =>
        handle.call(GreeterServiceService.sayHello, { name, delayMs: i % 7 }, { timeoutMs: 10_000 }),
      ),
    );
    expect(replies.map((r) => r.message)).toEqual(names.map((n) => `hello ${n}`));
    expect(handle.sessions[0]!.inFlight).toBe(0);
  });
});
