import { Metadata, type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import {
  type SimpleRequest,
  type SimpleResponse,
  TestServiceClient,
  TestServiceService,
} from "@operator-plugin-framework/proto/testing";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { createInteropService } from "@operator-plugin-framework/testkit/interop";
import { afterEach, describe, expect, it } from "vitest";

/**
 * The interop service with a unary method that holds every call until the
 * test opens the gate, so a known number of calls are in flight at once.
 */
function gatedService() {
  let open = false;
  let running = 0;
  let maxRunning = 0;
  const held: (() => void)[] = [];
  const watchers: { count: number; resolve: () => void }[] = [];
  const unaryCall = (
    _call: ServerUnaryCall<SimpleRequest, SimpleResponse>,
    callback: sendUnaryData<SimpleResponse>,
  ) => {
    const reply = () => {
      running--;
      callback(null, { payload: { body: Buffer.alloc(1) } } as SimpleResponse);
    };
    running++;
    maxRunning = Math.max(maxRunning, running);
    for (const w of watchers.filter((w) => running >= w.count)) w.resolve();
    if (open) reply();
    else held.push(reply);
  };
  return {
    service: { ...createInteropService(), unaryCall },
    /** Resolves once `count` handlers run at the same time. */
    running: (count: number) => new Promise<void>((resolve) => watchers.push({ count, resolve })),
    get maxRunning() {
      return maxRunning;
    },
    release() {
      open = true;
      for (const reply of held.splice(0)) reply();
    },
  };
}

describe("calls past maxConcurrentStreams", () => {
  let server: TestServer;
  let plugin: PluginConnection;
  afterEach(async () => {
    await plugin?.close();
    await server?.close();
  });

  async function setUp(options: { maxConcurrentStreams?: number; maxQueuedCalls?: number }) {
    const gate = gatedService();
    server = await startTestServer(options);
    plugin = await startTestPlugin({
      name: "busy",
      target: server.target,
      services: [[TestServiceService, gate.service]],
      allowPartialImplementation: true,
    });
    const client = server.registry.get("busy").client(TestServiceClient);
    const outcomes: { code: number; details: string }[] = [];
    const call = (deadline?: Date) =>
      new Promise<{ code: number; details: string }>((resolve) =>
        client.unaryCall(
          { responseSize: 1, payload: undefined, sleepMs: 0 },
          new Metadata(),
          { deadline },
          (err) => {
            const outcome = { code: err ? err.code : status.OK, details: err ? err.details : "" };
            outcomes.push(outcome);
            resolve(outcome);
          },
        ),
      );
    return { gate, call, outcomes };
  }

  it("queues 2,000 calls in flight on one session (limit 1000) and runs them all", async () => {
    const { gate, call, outcomes } = await setUp({});
    const calls = Array.from({ length: 2_000 }, () => call());
    await gate.running(1_000);
    // 1,000 run on the plugin, 1,000 wait on the operator; none was refused.
    expect(outcomes).toEqual([]);
    gate.release();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.code !== status.OK)).toEqual([]);
    expect(gate.maxRunning).toBe(1_000);
  }, 30_000);

  it("fails a call past the queue's bound with RESOURCE_EXHAUSTED naming maxQueuedCalls", async () => {
    const { gate, call, outcomes } = await setUp({ maxConcurrentStreams: 2, maxQueuedCalls: 3 });
    const queued = Array.from({ length: 5 }, () => call());
    await gate.running(2);
    expect(outcomes).toEqual([]);
    const refused = await call();
    expect(refused.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(
      /2 calls open and 3 waiting, the bound set by the plugin server's maxQueuedCalls/,
    );
    gate.release();
    expect((await Promise.all(queued)).map((r) => r.code)).toEqual(Array(5).fill(status.OK));
  });

  it("fails a queued call at its deadline, and the calls behind it still run", async () => {
    const { gate, call } = await setUp({ maxConcurrentStreams: 1 });
    const first = call();
    await gate.running(1);
    const late = call(new Date(Date.now() + 200));
    const behind = call();
    const expired = await late;
    expect(expired.code).toBe(status.DEADLINE_EXCEEDED);
    expect(expired.details).toMatch(/waiting for a free stream/);
    gate.release();
    expect([(await first).code, (await behind).code]).toEqual([status.OK, status.OK]);
  });
});
