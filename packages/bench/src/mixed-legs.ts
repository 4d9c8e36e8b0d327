// Where a small call waits during a bulk transfer on the same session, split
// into its two legs: the operator in this process, the plugin in a child,
// which stamps its handler's time (epoch ms, same machine clock) into the
// reply. Phases: idle, then during 16 x 1 MiB server-streamed transfers, twice.
//   node --conditions=opf-source --import tsx packages/bench/src/mixed-legs.ts
// Prints per phase the request leg (operator -> plugin handler) and the
// response leg (handler -> operator) p50/p99, and both event loops' p99.
import { fork } from "node:child_process";
import { once } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { TestServiceClient, TestServiceService } from "@operator-plugin-framework/proto/testing";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { testService } from "./services.js";

const now = () => performance.timeOrigin + performance.now();
const limit = 16 * 1024 * 1024;
if (process.argv[2] === "plugin") {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const service = {
    ...testService,
    unaryCall(_call: unknown, cb: (e: null, r: unknown) => void) {
      const body = Buffer.alloc(64);
      body.writeDoubleLE(now(), 0);
      cb(null, { payload: { body } });
    },
  };
  const plugin = await startTestPlugin({
    name: "ab",
    target: process.argv[3]!,
    maxReceiveMessageSize: limit,
    maxSendMessageSize: limit,
    services: [[TestServiceService, service as never]],
  });
  process.on("message", async (m: string) => {
    if (m === "loop-start") {
      loop.reset();
      loop.enable();
      process.send!(0);
    } else if (m === "loop-stop") {
      loop.disable();
      process.send!(loop.percentile(99) / 1e6);
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
  const ask = async (m: string) => {
    child.send(m);
    const [v] = await once(child, "message");
    return v as number;
  };
  const client = op.registry
    .get("ab")
    .client(TestServiceClient, { "grpc.max_receive_message_length": limit });
  const small = () =>
    new Promise<[number, number]>((resolve, reject) => {
      const t0 = now();
      client.unaryCall(
        {
          responseSize: 64,
          payload: { body: Buffer.alloc(64) },
          responseStatus: undefined,
          sleepMs: 0,
        } as never,
        (err: unknown, reply?: { payload?: { body: Buffer } }) => {
          if (err) return reject(err);
          const t2 = now();
          const t1 = reply!.payload!.body.readDoubleLE(0);
          resolve([t1 - t0, t2 - t1]);
        },
      );
    });
  const transfer = () =>
    new Promise<void>((resolve, reject) => {
      const call = client.streamingOutputCall({
        responseParameters: Array.from({ length: 16 }, () => ({ size: 1 << 20, intervalUs: 0 })),
        payload: undefined,
        responseStatus: undefined,
      } as never);
      call.on("data", () => {});
      call.on("error", reject);
      call.on("end", resolve);
    });
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  };
  for (const phase of ["idle", "loaded", "idle", "loaded"]) {
    const req: number[] = [];
    const res: number[] = [];
    const opLoop = monitorEventLoopDelay({ resolution: 1 });
    opLoop.enable();
    await ask("loop-start");
    const stopAt = performance.now() + 3000;
    while (req.length < 300 && performance.now() < stopAt) {
      if (phase === "loaded") {
        let done = false;
        const t = transfer().then(() => {
          done = true;
        });
        while (!done && req.length < 300) {
          const [a, b] = await small();
          req.push(a);
          res.push(b);
        }
        await t;
      } else {
        const [a, b] = await small();
        req.push(a);
        res.push(b);
      }
    }
    opLoop.disable();
    const plLoop = await ask("loop-stop");
    const f = (x: number) => x.toFixed(2);
    console.log(
      `${phase}: n=${req.length} request leg p50 ${f(q(req, 0.5))} p99 ${f(q(req, 0.99))} ms | response leg p50 ${f(q(res, 0.5))} p99 ${f(q(res, 0.99))} ms | loop p99 operator ${f(opLoop.percentile(99) / 1e6)} plugin ${f(plLoop)} ms`,
    );
  }
  client.close();
  child.send("close");
  await once(child, "exit");
  await op.close();
  process.exit(0);
}
