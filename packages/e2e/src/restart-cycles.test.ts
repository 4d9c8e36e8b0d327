import { once } from "node:events";
import { readdirSync } from "node:fs";
import { createServer } from "node:net";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer } from "@operator-plugin-framework/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const hello = GreeterServiceService.sayHello;
const CYCLES = 100;
const WARM_UP = 10;
/** Growth allowed between the warm-up and the last cycle: a socket or timer closing late, not one per cycle. */
const SLACK = 3;

// grpc-js keeps its own reconnect backoff per subchannel (1 s at first, up to
// 120 s) and shares subchannels between clients of the same target, so
// without these a plugin waits for grpc-js rather than for its own backoff
// after every restart (see the report to the client's owner).
const GRPC_BACKOFF = { "grpc.initial_reconnect_backoff_ms": 5, "grpc.max_reconnect_backoff_ms": 40 };

const WATCHED = ["TCPServerWrap", "TCPSocketWrap", "Timeout"];

function snapshot() {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return {
    handles: WATCHED.reduce((sum, type) => sum + (counts[type] ?? 0), 0),
    resources: process.getActiveResourcesInfo().length,
    fds: readdirSync("/proc/self/fd").length,
  };
}

/** The snapshot once closed sockets are freed by libuv (a few loop turns after their close events). */
async function settledSnapshot(floor?: ReturnType<typeof snapshot>) {
  let now = snapshot();
  for (let turn = 0; turn < 500 && floor && now.handles > floor.handles; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    now = snapshot();
  }
  return now;
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

describe("operator and plugin restart cycles", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let survivor: PluginConnection | undefined;

  beforeAll(() => {
    process.on("unhandledRejection", onUnhandled);
  });
  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await survivor?.close();
  });

  it(`leaves no growth in handles or file descriptors over ${CYCLES} cycles`, {
    timeout: 40_000,
  }, async () => {
    const port = await freePort();
    const target = `http://127.0.0.1:${port}`;
    // One plugin lives across every operator restart and must come back each time;
    // the others are created and closed within a cycle.
    survivor = connectPlugin({
      name: "survivor",
      target,
      services: [[GreeterServiceService, createGreeter("survivor").impl]],
      drainGraceMs: 200,
      backoff: { initialMs: 5, maxMs: 40 },
      grpcOptions: GRPC_BACKOFF,
    });
    let warm: ReturnType<typeof snapshot> | undefined;
    const startedAt = Date.now();
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const server = createPluginServer({
        listen: `127.0.0.1:${port}`,
        authenticator: "none",
        drainGraceMs: 200,
      });
      const running = server.start();
      await server.ready();
      const plugins = ["a", "b"].map((name) =>
        connectPlugin({
          name: `cycle-${name}`,
          target,
          services: [[GreeterServiceService, createGreeter(name).impl]],
          drainGraceMs: 200,
          backoff: { initialMs: 5, maxMs: 40 },
          grpcOptions: GRPC_BACKOFF,
        }),
      );
      await Promise.all(plugins.map((plugin) => plugin.registered()));
      await server.registry.waitFor("survivor", { timeoutMs: 5_000 });
      const replies = await Promise.all(
        ["cycle-a", "cycle-b", "survivor"].map((name) =>
          server.registry.get(name).call(hello, { name, delayMs: 0 }, { timeoutMs: 5_000 }),
        ),
      );
      expect(replies.map((reply) => reply.message)).toEqual([
        "hello cycle-a",
        "hello cycle-b",
        "hello survivor",
      ]);
      await Promise.all(plugins.map((plugin) => plugin.close()));
      await server.stop();
      await running;
      if (cycle === WARM_UP) warm = await settledSnapshot();
    }
    const last = await settledSnapshot(warm);
    const elapsed = Date.now() - startedAt;
    console.log(
      `${CYCLES} restart cycles in ${elapsed} ms; after cycle ${WARM_UP}: ${JSON.stringify(warm)}, after cycle ${CYCLES}: ${JSON.stringify(last)}`,
    );
    expect(last.handles).toBeLessThanOrEqual(warm!.handles + SLACK);
    expect(last.resources).toBeLessThanOrEqual(warm!.resources + SLACK);
    expect(last.fds).toBeLessThanOrEqual(warm!.fds + SLACK);
    expect(unhandled).toEqual([]);
  });
});
