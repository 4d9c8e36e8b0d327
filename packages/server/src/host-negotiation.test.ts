import { status } from "@grpc/grpc-js";
import { TestServiceService } from "@operator-plugin-framework/proto/testing";
import { describe, expect, it } from "vitest";
import { hostTestBed } from "./host-service.test-support.js";
import type { PluginServer } from "./plugin-server.js";
import type { RawPlugin } from "./raw-plugin.test-support.js";

const EMPTY_CALL = "/testing.v1.TestService/EmptyCall";
const UNARY_CALL = "/testing.v1.TestService/UnaryCall";
const EMPTY = Buffer.alloc(0);
const { server, plugin } = hostTestBed();

/** Makes two operator calls to the plugin, answers them, and returns the stream ids they used. */
async function operatorCallIds(operator: PluginServer, raw: RawPlugin): Promise<number[]> {
  const opened = () => raw.frames.filter((f) => f.kind?.$case === "newStream").map((f) => f.streamId);
  const calls = [0, 1].map(() => operator.registry.get("p").call(TestServiceService.emptyCall, {}));
  const ids = await raw.until(() => (opened().length === 2 ? opened() : undefined));
  for (const streamId of ids) {
    raw.send(
      { streamId, kind: { $case: "data", value: { data: EMPTY, more: false } } },
      { streamId, kind: { $case: "status", value: { code: 0, message: "", details: EMPTY, trailers: [] } } },
    );
  }
  await Promise.all(calls);
  return ids;
}

describe("revision negotiation at register", () => {
  it("acknowledges revision 2 with the host services, and opens operator calls on odd ids", async () => {
    const { server: operator, address } = await server();
    const raw = plugin(address);
    const ack = await raw.register(2);
    expect(ack.protocolRevision).toBe(2);
    expect(ack.hostServices).toEqual([
      {
        name: "testing.v1.TestService",
        methods: [
          { name: "EmptyCall", clientStreaming: false, serverStreaming: false },
          { name: "UnaryCall", clientStreaming: false, serverStreaming: false },
          { name: "StreamingOutputCall", clientStreaming: false, serverStreaming: true },
          { name: "StreamingInputCall", clientStreaming: true, serverStreaming: false },
          { name: "FullDuplexCall", clientStreaming: true, serverStreaming: true },
          { name: "UnimplementedCall", clientStreaming: false, serverStreaming: false },
        ],
      },
    ]);
    expect(await operatorCallIds(operator, raw)).toEqual([1, 3]);
  });

  it("answers a plugin of a later revision with revision 2", async () => {
    const { address } = await server();
    expect((await plugin(address).register(7)).protocolRevision).toBe(2);
  });

  it("changes nothing for a revision-1 plugin: no host services, ids 1, 2, 3, ...", async () => {
    const { server: operator, address } = await server();
    const raw = plugin(address);
    const ack = await raw.register(1);
    expect(ack.protocolRevision).toBe(1);
    expect(ack.hostServices).toEqual([]);
    expect(await operatorCallIds(operator, raw)).toEqual([1, 2]);
    // A revision-1 plugin opens no calls: a new_stream is a frame for a stream never opened.
    raw.call(4, EMPTY_CALL, [EMPTY]);
    expect(await raw.ended).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe("the direction rule and the limits, for plugin-opened calls", () => {
  it("ends the session when the plugin opens a call on an odd id", async () => {
    const { address } = await server();
    const raw = plugin(address);
    await raw.register(2);
    raw.call(3, EMPTY_CALL, [EMPTY]);
    expect(await raw.ended).toEqual({
      code: status.INVALID_ARGUMENT,
      details:
        "protocol violation: new_stream on stream id 3: at revision 2 a plugin opens its calls on even ids (2, 4, 6, ...)",
    });
  });

  it("ends only the call when the plugin reuses an even id, and serves the next one", async () => {
    const { address } = await server();
    const raw = plugin(address);
    await raw.register(2);
    raw.call(4, UNARY_CALL, [TestServiceService.unaryCall.requestSerialize({ responseSize: 0, sleepMs: 1 })]);
    raw.call(2, EMPTY_CALL, [EMPTY]);
    expect(await raw.status(2)).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: "protocol violation: new_stream reuses stream id 2",
    });
    raw.call(6, EMPTY_CALL, [EMPTY]);
    expect(await raw.status(6)).toMatchObject({ code: status.OK });
  });

  it("answers a call over max_concurrent_streams with RESOURCE_EXHAUSTED, and the session goes on", async () => {
    const { address, log } = await server({ maxConcurrentStreams: 1 });
    const raw = plugin(address);
    const ack = await raw.register(2);
    expect(ack.settings?.maxConcurrentStreams).toBe(1);
    raw.call(2, UNARY_CALL, [TestServiceService.unaryCall.requestSerialize({ responseSize: 0, sleepMs: 1 })]);
    await log.sleeping;
    raw.call(4, EMPTY_CALL, [EMPTY]);
    const refused = await raw.status(4);
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.message).toMatch(/plugin "p" has 1 host-service calls open, the operator's limit .* is 1/);
    raw.send({ streamId: 2, kind: { $case: "cancel", value: { code: status.CANCELLED, message: "" } } });
    raw.call(6, EMPTY_CALL, [EMPTY]);
    expect(await raw.status(6)).toMatchObject({ code: status.OK });
  });

  it("refuses a host-call message over maxReceiveMessageSize with RESOURCE_EXHAUSTED", async () => {
    const { address, log } = await server({ maxReceiveMessageSize: 1024 });
    const raw = plugin(address);
    await raw.register(2);
    const big = TestServiceService.unaryCall.requestSerialize({
      responseSize: 0,
      sleepMs: 0,
      payload: { body: Buffer.alloc(2048) },
    });
    raw.call(2, UNARY_CALL, [big]);
    expect(await raw.status(2)).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(log.contexts).toEqual([]);
  });
});

describe("host calls while the operator stops", () => {
  it("refuses new host calls with UNAVAILABLE once draining, and waits for open ones", async () => {
    const { server: operator, address, log } = await server({ drainGraceMs: 30_000 });
    const raw = plugin(address);
    await raw.register(2);
    raw.call(2, UNARY_CALL, [TestServiceService.unaryCall.requestSerialize({ responseSize: 0, sleepMs: 1 })]);
    const { cancelled } = await log.sleeping;
    let stopped = false;
    const stopping = operator.stop().then(() => {
      stopped = true;
    });
    await raw.until(() => raw.messages.find((m) => m.payload?.$case === "drain"));
    raw.call(4, EMPTY_CALL, [EMPTY]);
    expect(await raw.status(4)).toMatchObject({
      code: status.UNAVAILABLE,
      message: "the operator is draining: the operator is shutting down",
    });
    // The open host call holds the stop, as an operator call would.
    expect(stopped).toBe(false);
    raw.send({ streamId: 2, kind: { $case: "cancel", value: { code: status.CANCELLED, message: "" } } });
    await cancelled;
    await stopping;
  });

  it("refuses a plugin's first host call with UNAVAILABLE when the drain came before it", async () => {
    // The session builds its host-call state at the first host call: that state must know of the drain.
    const { server: operator, address, log } = await server({ drainGraceMs: 30_000 });
    const raw = plugin(address);
    await raw.register(2);
    // An operator call the plugin has not answered yet holds the stop open.
    const call = operator.registry.get("p").call(TestServiceService.emptyCall, {});
    const streamId = await raw.until(() => raw.frames.find((f) => f.kind?.$case === "newStream")?.streamId);
    const stopping = operator.stop();
    await raw.until(() => raw.messages.find((m) => m.payload?.$case === "drain"));
    raw.call(2, EMPTY_CALL, [EMPTY]);
    expect(await raw.status(2)).toMatchObject({
      code: status.UNAVAILABLE,
      message: "the operator is draining: the operator is shutting down",
    });
    expect(log.contexts).toEqual([]);
    raw.send(
      { streamId, kind: { $case: "data", value: { data: EMPTY, more: false } } },
      { streamId, kind: { $case: "status", value: { code: 0, message: "", details: EMPTY, trailers: [] } } },
    );
    await call;
    await stopping;
  });
});
