import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import type { ChildReply, ChildRequest, Memory } from "./scale-protocol.js";
import { greeterService } from "./services.js";
import { median } from "./stats.js";

/** Result of the scale scenario, as in bench-results.json. */
export interface ScaleResult {
  plugins: number;
  rssPerSessionKiB: number;
  heapPerSessionKiB: number;
  registerAllMs: number;
  fanOutMs: number;
  fanOutColdMs: number;
  operatorRssBaseMiB: number;
  error?: string;
}

class Child {
  private readonly replies: ((reply: ChildReply) => void)[] = [];
  constructor(readonly process: ChildProcess) {
    process.on("message", (reply: ChildReply) => this.replies.shift()?.(reply));
  }
  next<T extends ChildReply["type"]>(type: T, timeoutMs: number): Promise<Extract<ChildReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`operator child: no "${type}" reply in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.replies.push((reply) => {
        clearTimeout(timer);
        reply.type === type ? resolve(reply as never) : reject(new Error(`unexpected reply ${reply.type}`));
      });
    });
  }
  ask<T extends ChildReply["type"]>(request: ChildRequest, type: T, timeoutMs: number) {
    const reply = this.next(type, timeoutMs);
    this.process.send(request);
    return reply;
  }
}

/**
 * Starts an operator in a child process, connects `count` plugins to it from
 * this process (one HTTP/2 connection each, as separate pods would have),
 * and measures the operator's memory per idle session, the time until all are
 * registered, and a fan-out call to all of them.
 */
export async function runScale(count: number, profileDir: string | undefined): Promise<ScaleResult> {
  const execArgv = ["--conditions=opf-source", "--import", "tsx", "--expose-gc"];
  if (profileDir)
    execArgv.push("--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", "operator-scale.cpuprofile");
  const child = new Child(
    fork(fileURLToPath(new URL("./operator-child.ts", import.meta.url)), [], { execArgv, stdio: "inherit" }),
  );
  const connections: PluginConnection[] = [];
  const names = Array.from({ length: count }, (_, i) => `p-${String(i).padStart(4, "0")}`);
  try {
    const { target } = await child.next("ready", 30_000);
    const before: Memory = (await child.ask({ type: "memory" }, "memory", 10_000)).memory;
    const registeredTimeout = Math.max(30_000, count * 30);
    const allRegistered = child.ask(
      { type: "wait", count, timeoutMs: registeredTimeout },
      "wait",
      registeredTimeout + 5_000,
    );
    const start = performance.now();
    for (const name of names) {
      connections.push(
        connectPlugin({
          name,
          target,
          services: [[GreeterServiceService, greeterService]],
          drainGraceMs: 1_000,
          grpcOptions: { "grpc.use_local_subchannel_pool": 1 },
        }),
      );
    }
    if (!(await allRegistered).ok)
      throw new Error(`not all ${count} plugins registered within ${registeredTimeout} ms`);
    const registerAllMs = performance.now() - start;
    const after: Memory = (await child.ask({ type: "memory" }, "memory", 10_000)).memory;
    const fanOuts: number[] = [];
    let fanOutError: string | undefined;
    for (let i = 0; i < 3; i++) {
      const reply = await child.ask({ type: "fanout", names, timeoutMs: 20_000 }, "fanout", 30_000);
      fanOuts.push(reply.ms);
      if (reply.failed) fanOutError = `${reply.failed} of ${count} fan-out calls failed: ${reply.error}`;
    }
    return {
      plugins: count,
      rssPerSessionKiB: (after.rss - before.rss) / count / 1024,
      heapPerSessionKiB: (after.heapUsed - before.heapUsed) / count / 1024,
      registerAllMs,
      fanOutMs: median(fanOuts.slice(1)),
      fanOutColdMs: fanOuts[0]!,
      operatorRssBaseMiB: before.rss / 1024 / 1024,
      ...(fanOutError ? { error: fanOutError } : {}),
    };
  } finally {
    await Promise.allSettled(connections.map((c) => c.close()));
    if (child.process.connected) {
      child.process.send({ type: "stop" } satisfies ChildRequest);
      const exited = once(child.process, "exit");
      const timer = setTimeout(() => child.process.kill(), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}
