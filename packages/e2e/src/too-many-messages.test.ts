import { status } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  GreeterServiceClient,
  GreeterServiceService,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type OperatorSide, startFakeOperator } from "./fixtures/fake-operator.js";
import { openRawStream, type RawStream, register } from "./fixtures/raw-stream.js";
import { createGreeter } from "./greeter-impl.js";

// A unary (or client-streaming) method answered with two messages: grpc-js
// fails a client-streaming call with UNIMPLEMENTED "Too many responses
// received", and a unary call over HTTP/2 waits for its deadline (forever
// without one). Through a plugin's stream both fail at once, as grpc-js's
// client-streaming call does, and the session goes on serving.

const frames = (...list: Frame[]): PluginStreamMessage => ({
  payload: { $case: "frames", value: { frames: list } },
});
const reply = (streamId: number, message: string): Frame => ({
  streamId,
  kind: {
    $case: "data",
    value: { data: Buffer.from(SayHelloResponse.encode({ message, servedBy: "raw" }).finish()), more: false },
  },
});
const statusFrame = (streamId: number, code: status, message = ""): Frame => ({
  streamId,
  kind: { $case: "status", value: { code, message, details: Buffer.alloc(0), trailers: [] } },
});

describe("a plugin that answers a unary-response call with two messages", () => {
  let server: TestServer;
  let raw: RawStream;
  /** Frames from the operator, as they come. */
  const seen: Frame[] = [];
  let arrived: (() => void) | undefined;

  async function frameWhere(match: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const found = seen.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => {
        arrived = resolve;
      });
    }
  }
  const opened = (method: string) =>
    frameWhere(
      (f) => f.kind?.$case === "newStream" && f.kind.value.method === method && !answered.has(f.streamId),
    );
  const answered = new Set<number>();

  beforeEach(async () => {
    seen.length = 0;
    answered.clear();
    server = await startTestServer();
    raw = openRawStream(server.target);
    raw.send(register("twice", 1));
    void (async () => {
      for (;;) {
        const message = await raw.next();
        if (message.payload?.$case === "frames") seen.push(...message.payload.value.frames);
        arrived?.();
      }
    })();
    await server.registry.waitFor("twice", { timeoutMs: 5_000 });
  });
  afterEach(async () => {
    raw.close();
    await server.close();
  });

  /** Answers the next call to `method` with `answer(streamId)`, and returns its stream id. */
  async function answer(method: string, build: (id: number) => Frame[]): Promise<number> {
    const { streamId } = await opened(method);
    answered.add(streamId);
    raw.send(frames(...build(streamId)));
    return streamId;
  }

  /** A good answer after the bad one is served: the session is healthy. */
  async function expectSessionStillServes(): Promise<void> {
    const next = server.registry.get("twice").call(GreeterServiceService.sayHello, { name: "b", delayMs: 0 });
    await answer("/example.v1.GreeterService/SayHello", (id) => [
      reply(id, "fine"),
      statusFrame(id, status.OK),
    ]);
    expect((await next).message).toBe("fine");
    expect(server.registry.get("twice").sessions).toHaveLength(1);
  }

  const twoThenStatus = (code: status) => (id: number) => [
    reply(id, "one"),
    reply(id, "two"),
    statusFrame(id, code, code === status.OK ? "" : "plugin failed"),
  ];

  it.each([
    ["OK", status.OK],
    ["an error", status.NOT_FOUND],
  ])("unary call (no deadline), then %s: UNIMPLEMENTED at once", async (_, code) => {
    const call = server.registry.get("twice").call(GreeterServiceService.sayHello, { name: "a", delayMs: 0 });
    await answer("/example.v1.GreeterService/SayHello", twoThenStatus(code));
    await expect(call).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      details: "Too many responses received",
    });
    await expectSessionStillServes();
  });

  it("unary call through a generated client (grpc-js's own unary path): UNIMPLEMENTED at once", async () => {
    const client = server.registry.get("twice").client(GreeterServiceClient);
    const call = new Promise((resolve, reject) =>
      client.sayHello({ name: "a", delayMs: 0 }, (err, value) => (err ? reject(err) : resolve(value))),
    );
    await answer("/example.v1.GreeterService/SayHello", twoThenStatus(status.OK));
    await expect(call).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      details: "Too many responses received",
    });
    await expectSessionStillServes();
  });

  it("client-streaming call: UNIMPLEMENTED at once, as grpc-js", async () => {
    const call = server.registry
      .get("twice")
      .service(GreeterServiceService)
      .collectNames([{ name: "a", delayMs: 0 }]);
    await answer("/example.v1.GreeterService/CollectNames", twoThenStatus(status.OK));
    await expect(call).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      details: "Too many responses received",
    });
    await expectSessionStillServes();
  });

  it("a server-streaming call still receives every message before the status", async () => {
    const received: string[] = [];
    const stream = server.registry
      .get("twice")
      .service(GreeterServiceService)
      .countGreetings({ name: "a", count: 2 });
    // The call starts when iteration does.
    const reading = (async () => {
      for await (const message of stream) received.push(message.message);
    })();
    await answer("/example.v1.GreeterService/CountGreetings", twoThenStatus(status.OK));
    await reading;
    expect(received).toEqual(["one", "two"]);
  });
});

describe("a plugin that receives two requests on a unary method", () => {
  let operator: Awaited<ReturnType<typeof startFakeOperator>>;
  let plugin: PluginConnection;
  let side: OperatorSide;
  const HELLO = "/example.v1.GreeterService/SayHello";
  const request = (name: string): Frame["kind"] => ({
    $case: "data",
    value: { data: Buffer.from(SayHelloRequest.encode({ name, delayMs: 0 }).finish()), more: false },
  });

  beforeEach(async () => {
    operator = await startFakeOperator();
    plugin = connectPlugin({
      name: "aws",
      drainGraceMs: 200,
      target: operator.target,
      services: [[GreeterServiceService, createGreeter("p").impl]],
    });
    side = await operator.accept();
    while ((await side.next()).payload?.$case !== "register") {}
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
  afterEach(async () => {
    await plugin.close();
    await operator.close();
  });

  async function framesOf(streamId: number): Promise<Frame[]> {
    const found: Frame[] = [];
    while (!found.some((f) => f.kind?.$case === "status")) {
      const message = await side.next();
      if (message.payload?.$case !== "frames") continue;
      found.push(...message.payload.value.frames.filter((f) => f.streamId === streamId));
    }
    return found;
  }

  it("answers UNIMPLEMENTED, as grpc-js does, and serves the next call", async () => {
    side.send(
      frames(
        {
          streamId: 1,
          kind: { $case: "newStream", value: { method: HELLO, metadata: [], timeoutMs: undefined } },
        },
        { streamId: 1, kind: request("one") },
        { streamId: 1, kind: request("two") },
        { streamId: 1, kind: { $case: "halfClose", value: {} } },
      ),
    );
    const first = (await framesOf(1)).find((f) => f.kind?.$case === "status");
    expect(first?.kind?.$case === "status" && first.kind.value).toMatchObject({
      code: status.UNIMPLEMENTED,
      message: expect.stringMatching(/second request message/),
    });
    side.send(
      frames(
        {
          streamId: 3,
          kind: { $case: "newStream", value: { method: HELLO, metadata: [], timeoutMs: undefined } },
        },
        { streamId: 3, kind: request("after") },
        { streamId: 3, kind: { $case: "halfClose", value: {} } },
      ),
    );
    const next = await framesOf(3);
    const data = next.find((f) => f.kind?.$case === "data");
    expect(data?.kind?.$case === "data" && SayHelloResponse.decode(data.kind.value.data).message).toBe(
      "hello after",
    );
  });
});
