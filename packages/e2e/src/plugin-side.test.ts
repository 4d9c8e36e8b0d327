import { status } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  GreeterServiceService,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { DEFAULT_SETTINGS } from "@operator-plugin-framework/wire";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type OperatorSide, startFakeOperator } from "./fixtures/fake-operator.js";
import { createGreeter } from "./greeter-impl.js";

const HELLO = "/example.v1.GreeterService/SayHello";
const request = (name: string, delayMs = 0) =>
  Buffer.from(SayHelloRequest.encode({ name, delayMs }).finish());

async function nextOf<C extends NonNullable<PluginStreamMessage["payload"]>["$case"]>(
  side: OperatorSide,
  kind: C,
) {
  for (;;) {
    const message = await side.next();
    if (message.payload?.$case === kind)
      return message.payload.value as Extract<
        NonNullable<PluginStreamMessage["payload"]>,
        { $case: C }
      >["value"];
  }
}

describe("the plugin client against a hand-driven operator", () => {
  let operator: Awaited<ReturnType<typeof startFakeOperator>>;
  let plugin: PluginConnection;
  let side: OperatorSide;

  beforeEach(async () => {
    operator = await startFakeOperator();
    plugin = connectPlugin({
      name: "aws",
      version: "9.9.9",
      // This operator never answers the plugin's drain on close: keep the wait short.
      drainGraceMs: 200,
      target: operator.target,
      services: [[GreeterServiceService, createGreeter("p").impl]],
    });
    side = await operator.accept();
  });
  afterEach(async () => {
    await plugin.close();
    await operator.close();
  });

  it("registers with its name, version, revision and announced services", async () => {
    const register = await nextOf(side, "register");
    expect(register).toMatchObject({ name: "aws", version: "9.9.9", protocolRevision: 2 });
    expect(register.services[0]?.name).toBe("example.v1.GreeterService");
    expect(register.services[0]?.methods.map((m) => m.name)).toEqual([
      "SayHello",
      "CountGreetings",
      "CollectNames",
      "Chat",
    ]);
  });

  it("serves a seed operator's rpc_call frames, which never acknowledge registration", async () => {
    await nextOf(side, "register");
    side.send({
      payload: { $case: "rpcCall", value: { requestId: "r1", method: HELLO, payload: request("seed") } },
    });
    const response = await nextOf(side, "rpcResponse");
    expect(response.requestId).toBe("r1");
    expect(SayHelloResponse.decode(response.payload).message).toBe("hello seed");
    await plugin.registered();

    // Seed plugins matched the last path segment; a bare method name works too.
    side.send({
      payload: { $case: "rpcCall", value: { requestId: "r2", method: "SayHello", payload: request("bare") } },
    });
    expect(SayHelloResponse.decode((await nextOf(side, "rpcResponse")).payload).message).toBe("hello bare");

    side.send({
      payload: {
        $case: "rpcCall",
        value: { requestId: "r3", method: "/x.Y/Nope", payload: Buffer.alloc(0) },
      },
    });
    expect(await nextOf(side, "error")).toMatchObject({
      requestId: "r3",
      code: "Unimplemented",
      grpcCode: status.UNIMPLEMENTED,
    });

    side.send({
      payload: { $case: "rpcCall", value: { requestId: "r4", method: HELLO, payload: request("fail") } },
    });
    expect(await nextOf(side, "error")).toMatchObject({
      requestId: "r4",
      code: "NotFound",
      message: "no such greeting",
    });
  });

  describe("revision-1 bad input from the operator ends only the offending call", () => {
    const frames = (...list: Frame[]): PluginStreamMessage => ({
      payload: { $case: "frames", value: { frames: list } },
    });
    const open = (streamId: number, timeoutMs?: number): Frame => ({
      streamId,
      kind: { $case: "newStream", value: { method: HELLO, metadata: [], timeoutMs } },
    });
    const data = (streamId: number, bytes: Buffer, more = false): Frame => ({
      streamId,
      kind: { $case: "data", value: { data: bytes, more } },
    });
    const halfClose = (streamId: number): Frame => ({ streamId, kind: { $case: "halfClose", value: {} } });

    async function statusOf(streamId: number) {
      for (;;) {
        const batch = await nextOf(side, "frames");
        const found = batch.frames.find((f) => f.streamId === streamId && f.kind?.$case === "status");
        if (found?.kind?.$case === "status") return found.kind.value;
      }
    }

    beforeEach(async () => {
      await nextOf(side, "register");
      side.send({
        payload: {
          $case: "registerAck",
          value: {
            accepted: true,
            hostServices: [],
            protocolRevision: 1,
            sessionId: "s",
            code: 0,
            message: "",
            settings: undefined,
          },
        },
      });
      await plugin.registered();
    });

    const cases: [string, (id: number) => Frame[], status, RegExp][] = [
      [
        "a chunk larger than negotiated",
        (id) => [open(id), data(id, Buffer.alloc(DEFAULT_SETTINGS.maxChunkSize + 1), true)],
        status.INVALID_ARGUMENT,
        /exceeds the negotiated maximum/,
      ],
      [
        "a message larger than the limit",
        (id) => [open(id), ...Array.from({ length: 65 }, () => data(id, Buffer.alloc(64 * 1024), true))],
        status.RESOURCE_EXHAUSTED,
        /larger than max/,
      ],
      ["a deadline in the past", (id) => [open(id, 0)], status.DEADLINE_EXCEEDED, /Deadline exceeded/],
      [
        "data after half-close",
        (id) => [open(id), data(id, request("slow", 5_000)), halfClose(id), data(id, request("late"))],
        status.INVALID_ARGUMENT,
        /data after half_close/,
      ],
    ];

    cases.forEach(([what, build, code, message], index) => {
      it(`${what}: ${status[code]}, and the session still serves`, async () => {
        const id = index + 1;
        const grantAsWeGo = what === "a message larger than the limit";
        const sequence = build(id);
        if (grantAsWeGo) {
          // Stay within the window so only the size limit is hit.
          for (const frame of sequence) side.send(frames(frame));
        } else side.send(frames(...sequence));
        const ended = await statusOf(id);
        expect(ended.code).toBe(code);
        expect(ended.message).toMatch(message);
        const next = id + 100;
        side.send(frames(open(next), data(next, request("after")), halfClose(next)));
        const batchFrames: Frame[] = [];
        for (;;) {
          batchFrames.push(...(await nextOf(side, "frames")).frames.filter((f) => f.streamId === next));
          if (batchFrames.some((f) => f.kind?.$case === "status")) break;
        }
        const reply = batchFrames.find((f) => f.kind?.$case === "data");
        expect(reply?.kind?.$case === "data" && SayHelloResponse.decode(reply.kind.value.data).message).toBe(
          "hello after",
        );
      });
    });

    it("a duplicate stream id ends the call it collides with", async () => {
      side.send(frames(open(1), data(1, request("slow")), open(1)));
      const ended = await statusOf(1);
      expect(ended).toMatchObject({
        code: status.INVALID_ARGUMENT,
        message: expect.stringMatching(/reuses stream id 1/),
      });
    });
  });
});
