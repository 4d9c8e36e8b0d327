// A/B of two code versions with one harness: copy this file into the other
// tree's packages/bench/src (e.g. a `git worktree add /tmp/before <rev>`), then
// run both alternately, several times, and compare paired rounds:
//   node --conditions=opf-source --import tsx packages/bench/src/ab-one-process.ts
// Operator and plugin run in this one process, as the pre-refactor bench ran
// them, and only public API common to every version is used (startTestServer,
// startTestPlugin, registry.get(name).client()). It prints one JSON line:
// calls/s and CPU µs per call (both ends) for unary 64 B x1, x64 and 1 MiB x4.
// Alternate the order (AB, BA, ...): the machine's load drifts within a run.
// With AB_CENSUS=1 (copy buffer-census.ts along), it instead prints to stderr
// the large buffer allocations and copies per 1 MiB call, by site: exact,
// where CPU time on a shared machine is not.
import { TestServiceClient, TestServiceService } from "@operator-plugin-framework/proto/testing";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { startBufferCensus } from "./buffer-census.js";
import { testService } from "./services.js";

const limit = 16 * 1024 * 1024;
const op = await startTestServer({ maxReceiveMessageSize: limit, maxSendMessageSize: limit });
const plugin = await startTestPlugin({
  name: "ab",
  target: op.target,
  maxReceiveMessageSize: limit,
  maxSendMessageSize: limit,
  services: [[TestServiceService, testService]],
});
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
      (err) => (err ? reject(err) : resolve()),
    ),
  );
async function loop(bytes: number, inflight: number, count: number) {
  let started = 0;
  const cpu0 = process.cpuUsage();
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
  return { rate: Math.round((count / ms) * 1000), cpuUs: +((cpu.user + cpu.system) / count).toFixed(1) };
}
if (process.env.AB_CENSUS) {
  await loop(1 << 20, 4, 8);
  const census = startBufferCensus();
  const calls = 20;
  await loop(1 << 20, 4, calls);
  census.stop();
  const mib = (bytes: number) => (bytes / calls / 2 ** 20).toFixed(2);
  const rows = census.rows();
  console.error(`MiB per call: ${mib(rows.reduce((n, r) => n + r.bytes, 0))}`);
  for (const r of rows) console.error(`${mib(r.bytes)}\t${r.kind}\t${r.site}`);
  process.exit(0);
}
await loop(64, 64, 3000);
await loop(1 << 20, 4, 8);
const out = {
  x1: await loop(64, 1, 3000),
  x64: await loop(64, 64, 20000),
  mib: await loop(1 << 20, 4, 100),
};
console.log(JSON.stringify(out));
client.close();
await plugin.close();
await op.close();
process.exit(0);
