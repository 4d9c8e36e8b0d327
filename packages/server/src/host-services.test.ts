import { status } from "@grpc/grpc-js";
import type { MetadataEntry } from "@operator-plugin-framework/proto";
import {
  type SimpleRequest,
  SimpleResponse,
  StreamingInputCallResponse,
  StreamingOutputCallResponse,
  TestServiceService,
} from "@operator-plugin-framework/proto/testing";
import { afterEach, describe, expect, it } from "vitest";
import { startHostServer, testHostService } from "./host-service.test-support.js";
import { RawPlugin } from "./raw-plugin.test-support.js";

const SERVICE = "/testing.v1.TestService";
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

/** A server with the test host service, and a revision-2 plugin registered on it as `user`. */
async function connected(user = "alice", options: Parameters<typeof startHostServer>[0] = {}) {
  const { server, address, log } = await startHostServer(options);
  const plugin = new RawPlugin(address, { "x-test-user": user });
  cleanup.push(async () => {
    plugin.close();
    await server.stop();
  });
  const ack = await plugin.register(2);
  return { server, plugin, log, ack };
}

const unary = (request: Partial<SimpleRequest>) =>
  TestServiceService.unaryCall.requestSerialize({ responseSize: 0, sleepMs: 0, ...request });
const output = (sizes: number[]) =>
  TestServiceService.fullDuplexCall.requestSerialize({
    responseParameters: sizes.map((size) => ({ size, intervalUs: 0 })),
  });
const EMPTY = Buffer.alloc(0);
const bodySizes = (plugin: RawPlugin, id: number) =>
  plugin.data(id).map((d) => StreamingOutputCallResponse.decode(d).payload?.body.length);

describe("host services: the four kinds, served to a revision-2 plugin", () => {
  it("serves a unary call, and the handler knows the calling session", async () => {
    const { plugin, log, ack } = await connected("alice");
    plugin.call(2, `${SERVICE}/UnaryCall`, [unary({ responseSize: 3 })]);
    expect(await plugin.status(2)).toMatchObject({ code: status.OK });
    expect(SimpleResponse.decode(plugin.data(2)[0]!).payload?.body.length).toBe(3);
    expect(log.contexts).toEqual([
      { pluginName: "p", identity: { user: "alice", groups: [] }, sessionId: ack.sessionId },
    ]);
  });

  it("serves a server-streaming call: every message, then OK", async () => {
    const { plugin } = await connected();
    plugin.call(2, `${SERVICE}/StreamingOutputCall`, [output([1, 2, 3])]);
    expect(await plugin.status(2)).toMatchObject({ code: status.OK });
    expect(bodySizes(plugin, 2)).toEqual([1, 2, 3]);
  });

  it("serves a client-streaming call: reads until half_close, answers once", async () => {
    const { plugin } = await connected();
    const chunk = (n: number) =>
      TestServiceService.streamingInputCall.requestSerialize({ payload: { body: Buffer.alloc(n) } });
    plugin.call(2, `${SERVICE}/StreamingInputCall`, [chunk(5), chunk(7)]);
    expect(await plugin.status(2)).toMatchObject({ code: status.OK });
    expect(StreamingInputCallResponse.decode(plugin.data(2)[0]!).aggregatedPayloadSize).toBe(12);
  });

  it("serves a bidi call: answers each message as it comes, ends after half_close", async () => {
    const { plugin } = await connected();
    plugin.call(4, `${SERVICE}/FullDuplexCall`, [output([1])], { open: true });
    await plugin.until(() => (plugin.data(4).length === 1 ? true : undefined));
    expect(plugin.of(4).some((k) => k.$case === "status")).toBe(false);
    plugin.send(
      { streamId: 4, kind: { $case: "data", value: { data: output([2, 3]), more: false } } },
      { streamId: 4, kind: { $case: "halfClose", value: {} } },
    );
    expect(await plugin.status(4)).toMatchObject({ code: status.OK });
    expect(bodySizes(plugin, 4)).toEqual([1, 2, 3]);
  });

  it("sends the handler's headers and trailers, and its error status with them", async () => {
    const { plugin } = await connected();
    const metadata = [
      { key: "x-echo", value: "hello", binaryValue: EMPTY },
      { key: "x-echo-trailer", value: "bye", binaryValue: EMPTY },
    ];
    plugin.call(2, `${SERVICE}/UnaryCall`, [unary({ responseSize: 1 })], { metadata });
    plugin.call(4, `${SERVICE}/UnaryCall`, [unary({ responseStatus: { code: 9, message: "not now" } })], {
      metadata,
    });
    const text = (entries: MetadataEntry[], key: string) =>
      entries.filter((e) => e.key === key).map((e) => e.value);
    for (const id of [2, 4]) {
      const done = await plugin.status(id);
      const headers = plugin.of(id).find((k) => k.$case === "headers");
      expect(headers?.$case === "headers" && text(headers.value.metadata, "x-echo")).toEqual(["hello"]);
      expect(text(done.trailers, "x-echo-trailer")).toEqual(["bye"]);
    }
    expect(await plugin.status(4)).toMatchObject({ code: status.FAILED_PRECONDITION, message: "not now" });
  });
});

describe("host services: deadlines, cancellation, unknown methods", () => {
  it("ends a call at its deadline with DEADLINE_EXCEEDED, and the handler sees cancelled", async () => {
    const { plugin, log } = await connected();
    plugin.call(2, `${SERVICE}/UnaryCall`, [unary({ sleepMs: 1 })], { timeoutMs: 50 });
    const { cancelled } = await log.sleeping;
    expect(await plugin.status(2)).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await cancelled;
  });

  it("answers timeout_ms 0 with DEADLINE_EXCEEDED without running the handler", async () => {
    const { plugin, log } = await connected();
    plugin.call(2, `${SERVICE}/EmptyCall`, [EMPTY], { timeoutMs: 0 });
    expect(await plugin.status(2)).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(log.contexts).toEqual([]);
  });

  it("tells the handler when the plugin cancels, and sends nothing more on that stream", async () => {
    const { plugin, log } = await connected();
    plugin.call(2, `${SERVICE}/UnaryCall`, [unary({ sleepMs: 1 })]);
    const { cancelled } = await log.sleeping;
    plugin.send({
      streamId: 2,
      kind: { $case: "cancel", value: { code: status.CANCELLED, message: "bye" } },
    });
    await cancelled;
    // The session goes on: a later call on the next id is served.
    plugin.call(4, `${SERVICE}/EmptyCall`, [EMPTY]);
    expect(await plugin.status(4)).toMatchObject({ code: status.OK });
    expect(plugin.of(2)).toEqual([]);
  });

  it("answers a method no host service has with UNIMPLEMENTED naming it", async () => {
    const { plugin } = await connected();
    plugin.call(2, "/nope.v1.Missing/Call", [EMPTY]);
    const answer = await plugin.status(2);
    expect(answer.code).toBe(status.UNIMPLEMENTED);
    expect(answer.message).toBe(
      "the operator offers no host service with method /nope.v1.Missing/Call (offered: testing.v1.TestService)",
    );
  });

  it("answers a method the implementation lacks with UNIMPLEMENTED naming it", async () => {
    const { plugin } = await connected();
    plugin.call(2, `${SERVICE}/UnimplementedCall`, [EMPTY]);
    expect(await plugin.status(2)).toMatchObject({
      code: status.UNIMPLEMENTED,
      message: `the operator's host services does not implement ${SERVICE}/UnimplementedCall (it serves a partial implementation)`,
    });
  });

  it("serves a service added after start to plugins that register later", async () => {
    const { server, address } = await startHostServer({ hostServices: [] });
    cleanup.push(() => server.stop());
    const { implementation } = testHostService();
    server.addHostService(TestServiceService, implementation);
    expect(() => server.addHostService(TestServiceService, implementation)).toThrow(/offered twice/);
    const plugin = new RawPlugin(address);
    cleanup.push(async () => plugin.close());
    const ack = await plugin.register(2);
    expect(ack.hostServices.map((s) => s.name)).toEqual(["testing.v1.TestService"]);
    plugin.call(2, `${SERVICE}/EmptyCall`, [EMPTY]);
    expect(await plugin.status(2)).toMatchObject({ code: status.OK });
  });
});
