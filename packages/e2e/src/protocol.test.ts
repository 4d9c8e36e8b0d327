import { status } from "@grpc/grpc-js";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  GreeterServiceService,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { startTestPlugin, startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openRawStream, type RawStream, register } from "./fixtures/raw-stream.js";
import { createGreeter } from "./greeter-impl.js";

const sayHello = GreeterServiceService.sayHello;

function frames(...list: Frame[]): PluginStreamMessage {
  return { payload: { $case: "frames", value: { frames: list } } };
}

async function nextFrames(stream: RawStream): Promise<Frame[]> {
  for (;;) {
    const message = await stream.next();
    if (message.payload?.$case === "frames") return message.payload.value.frames;
  }
}

describe("bad input on a plugin stream", () => {
  let server: TestServer;
  const raws: RawStream[] = [];
  const open = () => {
    const raw = openRawStream(server.target);
    raws.push(raw);
    return raw;
  };

  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.close();
    await server.close();
  });

  const cases: [string, (raw: RawStream) => void, RegExp][] = [
    ["a frame before register", (raw) => raw.send(frames()), /first message must be register, got frames/],
    ["an empty name", (raw) => raw.send(register("")), /plugin name is empty/],
    ["a name that is not a DNS-1123 label", (raw) => raw.send(register("Bad_Name")), /not a DNS-1123 label/],
    [
      "a second register on the same stream",
      (raw) => {
        raw.send(register("dup"));
        raw.send(register("dup"));
      },
      /duplicate register/,
    ],
    [
      "a response for an unknown call",
      (raw) => {
        raw.send(register("seedy"));
        raw.send({
          payload: { $case: "rpcResponse", value: { requestId: "999", payload: Buffer.alloc(0) } },
        });
      },
      /rpc_response for unknown request "999"/,
    ],
    [
      "a frame for an unknown stream",
      (raw) => {
        raw.send(register("tunnel", 1));
        raw.send(frames({ streamId: 42, kind: { $case: "halfClose", value: {} } }));
      },
      /halfClose frame for unknown stream 42/,
    ],
  ];

  for (const [what, send, message] of cases) {
    it(`closes the stream with INVALID_ARGUMENT for ${what}, and keeps serving other plugins`, async () => {
      const greeter = createGreeter("good");
      const good = await startTestPlugin({
        name: "good",
        target: server.target,
        services: [[GreeterServiceService, greeter.impl]],
      });
      const raw = open();
      send(raw);
      const ended = await raw.status;
      expect(ended.code).toBe(status.INVALID_ARGUMENT);
      expect(ended.details).toMatch(message);
      expect(server.registry.names()).toEqual(["good"]);
      const reply = await server.registry.get("good").call(sayHello, { name: "still", delayMs: 0 });
      expect(reply.message).toBe("hello still");
      await good.close();
    });
  }

  it("drops a late reply for a call that timed out, and the session stays usable", async () => {
    const raw = open();
    raw.send(register("late", 1));
    await server.registry.waitFor("late", { timeoutMs: 5_000 });
    const handle = server.registry.get("late");
    const first = handle.call(sayHello, { name: "a", delayMs: 0 }, { timeoutMs: 50 });
    const [opened] = await nextFrames(raw);
    await expect(first).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    const reply = (streamId: number, message: string): PluginStreamMessage =>
      frames(
        {
          streamId,
          kind: {
            $case: "data",
            value: {
              data: Buffer.from(SayHelloResponse.encode({ message, servedBy: "raw" }).finish()),
              more: false,
            },
          },
        },
        {
          streamId,
          kind: {
            $case: "status",
            value: { code: 0, message: "OK", details: Buffer.alloc(0), trailers: [] },
          },
        },
      );
    raw.send(reply(opened!.streamId, "too late"));
    const second = handle.call(sayHello, { name: "b", delayMs: 0 }, { timeoutMs: 5_000 });
    let request: Frame | undefined;
    while (!request) {
      request = (await nextFrames(raw)).find((f) => f.kind?.$case === "newStream");
    }
    raw.send(reply(request.streamId, "on time"));
    expect((await second).message).toBe("on time");
    expect(server.registry.get("late").sessions).toHaveLength(1);
  });
});

describe("a plugin flooding the stream while it is being authorized", () => {
  it("is cut with RESOURCE_EXHAUSTED instead of buffered without bound", async () => {
    let release: () => void = () => {};
    const authorizing = new Promise<void>((resolve) => {
      release = resolve;
    });
    await using server = await startTestServer({
      authenticator: { mode: "test", authenticate: async () => ({ user: "flooder", groups: [] }) },
      authorizeName: async () => {
        await authorizing;
        return { allowed: true };
      },
    });
    const raw = openRawStream(server.target);
    raw.send(register("flood", 1));
    for (let i = 0; i < 100; i++) raw.send({ payload: { $case: "ping", value: { nonce: i, ack: false } } });
    const ended = await raw.status;
    release();
    expect(ended.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(ended.details).toMatch(/before registration completed/);
    expect(server.registry.has("flood")).toBe(false);
    raw.close();
  });
});

describe("seed-protocol plugins", () => {
  it("answers unary calls sent as rpc_call, with errors mapped from the Go code names", async () => {
    await using server = await startTestServer();
    const raw = openRawStream(server.target);
    raw.send(register("seed"));
    await server.registry.waitFor("seed", { timeoutMs: 5_000 });
    const handle = server.registry.get("seed");
    expect(handle.sessions[0]!.protocolRevision).toBe(0);

    const ok = handle.call(sayHello, { name: "go", delayMs: 0 }, { timeoutMs: 5_000 });
    const call = await raw.next();
    expect(call.payload?.$case).toBe("rpcCall");
    if (call.payload?.$case !== "rpcCall") return;
    expect(call.payload.value.method).toBe("/example.v1.GreeterService/SayHello");
    expect(SayHelloRequest.decode(call.payload.value.payload).name).toBe("go");
    raw.send({
      payload: {
        $case: "rpcResponse",
        value: {
          requestId: call.payload.value.requestId,
          payload: Buffer.from(SayHelloResponse.encode({ message: "hi from go", servedBy: "seed" }).finish()),
        },
      },
    });
    expect(await ok).toEqual({ message: "hi from go", servedBy: "seed" });

    const failing = handle.call(sayHello, { name: "nope", delayMs: 0 }, { timeoutMs: 5_000 });
    await raw.next();
    // The seed protocol's error has no request id, and a text code.
    raw.send({
      payload: {
        $case: "error",
        value: { message: "unknown method", code: "Unimplemented", requestId: "", grpcCode: 0 },
      },
    });
    await expect(failing).rejects.toMatchObject({ code: status.UNIMPLEMENTED, details: "unknown method" });
    raw.close();
  });
});
