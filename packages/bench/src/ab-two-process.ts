// A/B of two code versions in the deployment layout: the operator in this
// process, the plugin in a child process. Copy into each tree's
// packages/bench/src, run them alternately, and compare paired rounds:
//   node --conditions=opf-source --import tsx packages/bench/src/ab-two-process.ts
// Only public API common to every version is used. Prints one JSON line:
// calls/s and, per call and side, CPU µs, GC pause µs and minor page faults,
// for unary 64 B x1, x64 and 1 MiB x4. GC and page faults tell where a 1 MiB
// difference comes from: the same copies cost more when the allocator hands
// back fresh pages or V8 collects more often.
import { fork } from "node:child_process";
import { once } from "node:events";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { TestServiceClient, TestServiceService } from "@operator-plugin-framework/proto/testing";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { testService } from "./services.js";

const limit = 16 * 1024 * 1024;

const gc = { pauses: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.pauses++;
    gc.ms += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

/** This process's totals so far: CPU µs, GC pause ms, minor page faults. */
function processStats() {
  const cpu = process.cpuUsage();
  return { cpuUs: cpu.user + cpu.system, gcMs: gc.ms, faults: process.resourceUsage().minorPageFault };
}
type Stats = ReturnType<typeof processStats>;

function perCall(before: Stats, after: Stats, count: number) {
  return {
    us: +((after.cpuUs - before.cpuUs) / count).toFixed(1),
    gcUs: +(((after.gcMs - before.gcMs) * 1000) / count).toFixed(1),
    faults: +((after.faults - before.faults) / count).toFixed(1),
  };
}
if (process.argv[2] === "plugin") {
  const plugin = await startTestPlugin({
    name: "ab",
    target: process.argv[3]!,
    maxReceiveMessageSize: limit,
    maxSendMessageSize: limit,
    services: [[TestServiceService, testService]],
  });
  process.on("message", async (m: string) => {
    if (m === "stats") {
      process.send!(processStats());
    } else {
      await plugin.close();
      process.exit(0);
    }
  });
  process.send!("ready");
} else {
  const op = await startTestServer({ maxReceiveMessageSize: limit, maxSendMessageSize: limit });
  const child = fork(fileURLToPath(import.meta.url), ["plugin", op.target], {
    execArgv: ["--conditions=opf-source", "--import", "tsx"],
  });
  await once(child, "message");
  await op.registry.waitFor("ab", { timeoutMs: 30_000 });
  const pluginStats = async () => {
    child.send("stats");
    const [stats] = await once(child, "message");
    return stats as Stats;
  };
  const client = op.registry.get("ab").client(TestServiceClient, {
    "grpc.max_receive_message_length": limit,
    "grpc.max_send_message_length": limit,
  });
  const call = (bytes: number) =>
    new Promise<void>((resolve, reject) =>
      client.unaryCall(
        {
          responseSize: bytes,
          payload: { body: Buffer.alloc(bytes) },
          responseStatus: undefined,
          sleepMs: 0,
        } as never,
        (err: unknown) => (err ? reject(err) : resolve()),
      ),
    );
  async function loop(bytes: number, inflight: number, count: number) {
    let started = 0;
    const op0 = processStats();
    const pl0 = await pluginStats();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (started < count) {
          started++;
          await call(bytes);
        }
      }),
    );
    const ms = performance.now() - t0;
    const op1 = processStats();
    const pl1 = await pluginStats();
    return {
      rate: Math.round((count / ms) * 1000),
      operator: perCall(op0, op1, count),
      plugin: perCall(pl0, pl1, count),
    };
  }
  await loop(64, 64, 3000);
  await loop(1 << 20, 4, 8);
  const out = {
    x1: await loop(64, 1, 2000),
    x64: await loop(64, 64, 20000),
    mib: await loop(1 << 20, 4, 300),
  };
  console.log(JSON.stringify(out));
  client.close();
  child.send("close");
  await once(child, "exit");
  await op.close();
  process.exit(0);
}
