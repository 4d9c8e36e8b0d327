import type {
  ClientWritableStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServiceError,
  sendUnaryData,
} from "@grpc/grpc-js";
import {
  GreeterServiceClient,
  type GreeterServiceServer,
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

const PER_DIRECTION = 64;
// A large stream per direction: 64 messages of 256 KiB, four times the default 4 MiB window.
const BIG_MESSAGES = 64;
const BIG_NAME = "x".repeat(256 * 1024);

/** A latch that opens once `count` parties arrived. */
function barrier(count: number) {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    opened,
    arrive(): Promise<void> {
      if (++arrived === count) open();
      return opened;
    },
  };
}

/**
 * The same greeter on both sides. Unary calls answer only once every unary
 * call of both directions has started, so all 128 are in flight at once.
 * The client-streaming handler reads nothing until `reading` opens: its
 * caller then runs out of window and must wait.
 */
function sideImpl(
  side: string,
  unary: { arrive(): Promise<void> },
  reading: Promise<void>,
  started: () => void,
) {
  const impl: Partial<GreeterServiceServer> = {
    sayHello(
      call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>,
      callback: sendUnaryData<SayHelloResponse>,
    ) {
      void unary
        .arrive()
        .then(() => callback(null, { message: `${side} greets ${call.request.name}`, servedBy: side }));
    },
    collectNames(call: ServerReadableStream<SayHelloRequest, SayHelloResponse>, callback) {
      started();
      void reading.then(() => {
        let count = 0;
        let bytes = 0;
        call.on("data", (request: SayHelloRequest) => {
          count++;
          bytes += request.name.length;
        });
        call.on("end", () => callback(null, { message: `${count} names, ${bytes} bytes`, servedBy: side }));
      });
    },
  };
  return impl;
}

/** Writes every message, counting those the tunnel has taken; resolves with the reply. */
function sendBig(
  start: (
    callback: (err: ServiceError | null, reply?: SayHelloResponse) => void,
  ) => ClientWritableStream<SayHelloRequest>,
) {
  const progress = { sent: 0 };
  const reply = new Promise<SayHelloResponse>((resolve, reject) => {
    const call = start((err, response) => (err ? reject(err) : resolve(response!)));
    for (let i = 0; i < BIG_MESSAGES; i++) {
      call.write({ name: BIG_NAME, delayMs: 0 }, () => {
        progress.sent++;
      });
    }
    call.end();
  });
  return { progress, reply };
}

describe("calls in both directions at once on one session", () => {
  let operator: TestServer;
  let plugin: PluginConnection;
  const unary = barrier(2 * PER_DIRECTION);
  const bigStarted = barrier(2);
  const started = () => void bigStarted.arrive();
  let startRead!: () => void;
  const reading = new Promise<void>((resolve) => {
    startRead = resolve;
  });

  beforeAll(async () => {
    operator = await startTestServer({
      hostServices: [[GreeterServiceService, sideImpl("operator", unary, reading, started)]],
    });
    plugin = await startTestPlugin({
      name: "both",
      allowPartialImplementation: true,
      target: operator.target,
      services: [[GreeterServiceService, sideImpl("plugin", unary, reading, started)]],
    });
  });

  afterAll(async () => {
    startRead();
    await plugin.close();
    await operator.close();
  });

  it("finishes 64 calls each way in flight together while both windows are exhausted, then the large streams", async () => {
    const toPlugin = operator.registry.get("both").client(GreeterServiceClient);
    const toOperator = plugin.host(GreeterServiceClient);
    const down = sendBig((cb) => toPlugin.collectNames(cb));
    const up = sendBig((cb) => toOperator.collectNames(cb));
    await bigStarted.opened;

    // Neither large stream's handler reads, so each sender stops at the window; meanwhile
    // 64 unary calls each way must all be in flight at once (none answers before all started).
    const options = { timeoutMs: 30_000 };
    const calls = await Promise.all([
      ...Array.from({ length: PER_DIRECTION }, (_, i) =>
        operator.registry
          .get("both")
          .call(GreeterServiceService.sayHello, { name: `down-${i}`, delayMs: 0 }, options),
      ),
      ...Array.from({ length: PER_DIRECTION }, (_, i) =>
        plugin.callHost(GreeterServiceService.sayHello, { name: `up-${i}`, delayMs: 0 }, options),
      ),
    ]);
    expect(calls.slice(0, PER_DIRECTION).map((r) => r.message)).toEqual(
      Array.from({ length: PER_DIRECTION }, (_, i) => `plugin greets down-${i}`),
    );
    expect(calls.slice(PER_DIRECTION).map((r) => r.message)).toEqual(
      Array.from({ length: PER_DIRECTION }, (_, i) => `operator greets up-${i}`),
    );

    // Both senders were held back by the receiver's window, each while the other side waited too.
    expect(down.progress.sent).toBeLessThan(BIG_MESSAGES);
    expect(up.progress.sent).toBeLessThan(BIG_MESSAGES);

    startRead();
    const expected = `${BIG_MESSAGES} names, ${BIG_MESSAGES * BIG_NAME.length} bytes`;
    await expect(down.reply).resolves.toMatchObject({ message: expected, servedBy: "plugin" });
    await expect(up.reply).resolves.toMatchObject({ message: expected, servedBy: "operator" });
    toPlugin.close();
    toOperator.close();
  });
});
