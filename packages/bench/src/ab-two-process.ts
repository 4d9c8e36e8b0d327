// A/B of two code versions in the deployment layout: the operator in this
// process, the plugin in a child process. Copy into each tree's
// packages/bench/src, run them alternately, and compare paired rounds:
//   node --conditions=opf-source --import tsx packages/bench/src/ab-two-process.ts
// Only public API common to every version is used. Prints one JSON line:
// calls/s and CPU µs per call of each side for unary 64 B x1, x64 and 1 MiB x4.
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { TestServiceClient, TestServiceService } from "@operator-plugin-framework/proto/testing";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { testService } from "./services.js";

const limit = 16 * 1024 * 1024;
if (process.argv[2] === "plugin") {
  const plugin = await startTestPlugin({
    name: "ab",
    target: process.argv[3]!,
    maxReceiveMessageSize: limit,
    maxSendMessageSize: limit,
    services: [[TestServiceService, testService]],
  });
  process.on("message", async (m: string) => {
    if (m === "cpu") {
      const c = process.cpuUsage();
      process.send!(c.user + c.system);
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
  const pluginCpu = async () => {
    child.send("cpu");
    const [us] = await once(child, "message");
    return us as number;
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
    const cpu0 = process.cpuUsage();
    const p0 = await pluginCpu();
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
    const cpu = process.cpuUsage(cpu0);
    const p1 = await pluginCpu();
    return {
      rate: Math.round((count / ms) * 1000),
      opUs: +((cpu.user + cpu.system) / count).toFixed(1),
      plUs: +((p1 - p0) / count).toFixed(1),
    };
  }
  await loop(64, 64, 3000);
  await loop(1 << 20, 4, 8);
  const out = {
    x1: await loop(64, 1, 2000),
    x64: await loop(64, 64, 20000),
    mib: await loop(1 << 20, 4, 100),
  };
  console.log(JSON.stringify(out));
  client.close();
  child.send("close");
  await once(child, "exit");
  await op.close();
  process.exit(0);
}
