import { Metadata, status } from "@grpc/grpc-js";
import type { RegisterAck } from "@operator-plugin-framework/proto";
import {
  GreeterServiceClient,
  GreeterServiceService,
  SayHelloRequest,
} from "@operator-plugin-framework/proto/example";
import { DEFAULT_SETTINGS } from "@operator-plugin-framework/wire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ConnectPluginOptions, connectPlugin } from "./connect-plugin.js";
import type { PluginConnection } from "./plugin-connection.js";
import { startFakeOperator } from "./test-support/fake-operator.js";
import { encode, expectFrame, HELLO, REVISION_2, reply, statusFrame } from "./test-support/host-frames.js";

describe("host-service calls from the plugin", () => {
  let operator: Awaited<ReturnType<typeof startFakeOperator>>;
  let plugin: PluginConnection | undefined;
  beforeEach(async () => {
    operator = await startFakeOperator();
  });
  afterEach(async () => {
    await plugin?.close();
    plugin = undefined;
    await operator.close();
  });

  async function connect(ack: Partial<RegisterAck> | undefined, options: Partial<ConnectPluginOptions> = {}) {
    plugin = connectPlugin({
      name: "aws",
      target: operator.target,
      services: [[GreeterServiceService, {}]],
      allowPartialImplementation: true,
      keepalive: { intervalMs: 0 },
      ...options,
    });
    const side = await operator.accept();
    const register = await side.next("register");
    if (ack) {
      side.accept("s1", ack);
      await plugin.registered();
    }
    return { plugin, side, register };
  }

  it("announces revision 2 and sends a unary call on even stream ids with metadata and deadline", async () => {
    const { plugin, side, register } = await connect(REVISION_2);
    expect(register.protocolRevision).toBe(2);

    const metadata = new Metadata();
    metadata.set("x-step", "zone synced");
    const first = plugin.callHost(
      GreeterServiceService.sayHello,
      { name: "a", delayMs: 0 },
      { metadata, timeoutMs: 5_000 },
    );
    const open = await expectFrame(side, "newStream");
    expect(open.streamId).toBe(2);
    expect(open.value.method).toBe(HELLO);
    expect(open.value.metadata).toContainEqual(
      expect.objectContaining({ key: "x-step", value: "zone synced" }),
    );
    expect(open.value.timeoutMs).toBeGreaterThan(4_000);
    expect(open.value.timeoutMs).toBeLessThanOrEqual(5_000);
    const data = await expectFrame(side, "data");
    expect(SayHelloRequest.decode(data.value.data).name).toBe("a");
    await expectFrame(side, "halfClose");
    side.sendFrames(...reply(2, "hello a"));
    await expect(first).resolves.toMatchObject({ message: "hello a" });

    const second = plugin.callHost(GreeterServiceService.sayHello, { name: "b", delayMs: 0 });
    const next = await expectFrame(side, "newStream");
    expect(next.streamId).toBe(4);
    expect(next.value.timeoutMs).toBeUndefined();
    side.sendFrames(...reply(4, "hello b"));
    await expect(second).resolves.toMatchObject({ message: "hello b" });
  });

  it("gives a generated client the handler's status, details and trailers", async () => {
    const { plugin, side } = await connect(REVISION_2);
    const client = plugin.host(GreeterServiceClient);
    const failed = new Promise<{ code: number; details: string; metadata: Metadata }>((resolve) =>
      client.sayHello({ name: "x", delayMs: 0 }, (err) => resolve(err as never)),
    );
    const open = await expectFrame(side, "newStream");
    side.sendFrames(statusFrame(open.streamId, status.NOT_FOUND, "no zone x", { "x-zone": "x" }));
    const err = await failed;
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe("no zone x");
    expect(err.metadata.get("x-zone")).toEqual(["x"]);
  });

  it("streams server replies through the facade as an async iterable", async () => {
    const { plugin, side } = await connect(REVISION_2);
    const greeter = plugin.hostService(GreeterServiceService);
    const replies = (async () => {
      const messages: string[] = [];
      for await (const response of greeter.countGreetings({ name: "z", count: 3 }))
        messages.push(response.message);
      return messages;
    })();
    const open = await expectFrame(side, "newStream");
    expect(open.value.method).toBe("/example.v1.GreeterService/CountGreetings");
    side.sendFrames(
      { streamId: open.streamId, kind: { $case: "data", value: { data: encode("1"), more: false } } },
      { streamId: open.streamId, kind: { $case: "data", value: { data: encode("2"), more: false } } },
      { streamId: open.streamId, kind: { $case: "data", value: { data: encode("3"), more: false } } },
      statusFrame(open.streamId, status.OK, ""),
    );
    await expect(replies).resolves.toEqual(["1", "2", "3"]);
  });

  it("cancels on abort: the operator gets a cancel frame, the caller CANCELLED", async () => {
    const { plugin, side } = await connect(REVISION_2);
    const abort = new AbortController();
    const call = plugin.callHost(
      GreeterServiceService.sayHello,
      { name: "slow", delayMs: 0 },
      { signal: abort.signal },
    );
    const open = await expectFrame(side, "newStream");
    await expectFrame(side, "data");
    await expectFrame(side, "halfClose");
    abort.abort();
    await expect(call).rejects.toMatchObject({ name: "PluginFrameworkError", code: status.CANCELLED });
    const cancel = await expectFrame(side, "cancel");
    expect(cancel.streamId).toBe(open.streamId);
    expect(cancel.value.code).toBe(status.CANCELLED);
  });

  it("sends no more than the operator's window, and the rest once it grants more", async () => {
    const { plugin, side } = await connect({
      ...REVISION_2,
      settings: { ...DEFAULT_SETTINGS, initialWindowSize: 64, maxChunkSize: 32 },
    });
    const big = "n".repeat(150);
    const call = plugin.callHost(GreeterServiceService.sayHello, { name: big, delayMs: 0 });
    const open = await expectFrame(side, "newStream");
    const chunks: Buffer[] = [];
    for (let sent = 0; sent < 64; ) {
      const { value } = await expectFrame(side, "data");
      expect(value.data.length).toBeLessThanOrEqual(32);
      expect(value.more).toBe(true);
      chunks.push(value.data);
      sent += value.data.length;
    }
    // The window is spent: the rest waits for the grant below, and arrives after it.
    side.sendFrames({ streamId: open.streamId, kind: { $case: "windowUpdate", value: { increment: 1000 } } });
    for (;;) {
      const { value } = await expectFrame(side, "data");
      chunks.push(value.data);
      if (!value.more) break;
    }
    expect(SayHelloRequest.decode(Buffer.concat(chunks)).name).toBe(big);
    side.sendFrames(...reply(open.streamId, "ok"));
    await expect(call).resolves.toMatchObject({ message: "ok" });
  });

  it("opens at most max_concurrent_streams at once, queues the rest, and bounds the queue", async () => {
    const { plugin, side } = await connect(
      { ...REVISION_2, settings: { ...DEFAULT_SETTINGS, maxConcurrentStreams: 1 } },
      { maxQueuedHostCalls: 1 },
    );
    const first = plugin.callHost(GreeterServiceService.sayHello, { name: "1", delayMs: 0 });
    const second = plugin.callHost(GreeterServiceService.sayHello, { name: "2", delayMs: 0 });
    const third = plugin.callHost(GreeterServiceService.sayHello, { name: "3", delayMs: 0 });
    await expect(third).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    await expect(third).rejects.toThrow(/maxQueuedHostCalls/);
    const open = await expectFrame(side, "newStream");
    expect(open.streamId).toBe(2);
    await expectFrame(side, "data");
    await expectFrame(side, "halfClose");
    side.sendFrames(...reply(2, "one"));
    await expect(first).resolves.toMatchObject({ message: "one" });
    // Only now, with the first stream closed, does the queued call go out.
    const next = await expectFrame(side, "newStream");
    expect(next.streamId).toBe(4);
    side.sendFrames(...reply(4, "two"));
    await expect(second).resolves.toMatchObject({ message: "two" });
  });

  it("fails a queued call at its deadline without ever sending it", async () => {
    const { plugin, side } = await connect({
      ...REVISION_2,
      settings: { ...DEFAULT_SETTINGS, maxConcurrentStreams: 1 },
    });
    const first = plugin.callHost(GreeterServiceService.sayHello, { name: "1", delayMs: 0 });
    const queued = plugin.callHost(
      GreeterServiceService.sayHello,
      { name: "2", delayMs: 0 },
      { timeoutMs: 50 },
    );
    await expect(queued).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: "Deadline exceeded while waiting for a free stream",
    });
    await expectFrame(side, "newStream");
    side.sendFrames(...reply(2, "one"));
    await expect(first).resolves.toBeDefined();
    // The next call gets stream 4: the timed-out one never took an id.
    const third = plugin.callHost(GreeterServiceService.sayHello, { name: "3", delayMs: 0 });
    await expectFrame(side, "data");
    await expectFrame(side, "halfClose");
    expect((await expectFrame(side, "newStream")).streamId).toBe(4);
    side.sendFrames(...reply(4, "three"));
    await expect(third).resolves.toMatchObject({ message: "three" });
  });

  it("fails a unary call answered with two messages at once, not at its deadline", async () => {
    const { plugin, side } = await connect(REVISION_2);
    const call = plugin.callHost(
      GreeterServiceService.sayHello,
      { name: "x", delayMs: 0 },
      { timeoutMs: 60_000 },
    );
    const open = await expectFrame(side, "newStream");
    const [headers, data, done] = reply(open.streamId, "one");
    side.sendFrames(
      headers!,
      data!,
      { streamId: open.streamId, kind: { $case: "data", value: { data: encode("two"), more: false } } },
      done!,
    );
    await expect(call).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      details: "Too many responses received",
    });
  });

  it("fails open host calls with UNAVAILABLE when the session ends", async () => {
    const { plugin, side } = await connect(REVISION_2, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const call = plugin.callHost(GreeterServiceService.sayHello, { name: "1", delayMs: 0 });
    await expectFrame(side, "newStream");
    side.end(status.UNAVAILABLE, "operator restarting");
    await expect(call).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(call).rejects.toThrow(/operator session ended: operator restarting/);
  });

  it("ends the session when the operator opens a stream on an even id", async () => {
    const { plugin, side } = await connect(REVISION_2, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const reconnecting = new Promise((resolve) =>
      plugin.onState((s) => s.state === "reconnecting" && resolve(s)),
    );
    side.sendFrames({ streamId: 2, kind: { $case: "newStream", value: { method: HELLO, metadata: [] } } });
    await expect(reconnecting).resolves.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/even id; at revision 2 even ids belong to the plugin/),
    });
  });
});
