import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { CoreConfig, CoreReply, CoreRequest } from "./core-protocol.js";
import type { OperatorProcess } from "./operator-process.js";
import type { CallReport } from "./protocol.js";

/** The core operator child: an {@link OperatorProcess} that can also call the offender. */
export interface CoreOperatorProcess extends OperatorProcess {
  /** Starts `concurrency` loops calling `name`, each call with `timeoutMs`. Defaults: 1 loop, 5 000 ms. */
  startCallsTo(name: string, options?: { timeoutMs?: number; concurrency?: number }): Promise<void>;
  /** Stops the calls to `name` and reports how they went. */
  stopCallsTo(name: string): Promise<CallReport>;
}

const main = fileURLToPath(new URL("./core-operator-child.ts", import.meta.url));

/** Forks the core operator child with `--expose-gc` and resolves once it listens. */
export async function startCoreOperator(config: CoreConfig = {}): Promise<CoreOperatorProcess> {
  const child: ChildProcess = fork(main, [], {
    execArgv: ["--conditions=opf-source", "--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = once(child, "exit");
  // One request in flight at a time: replies come back in order.
  let queue: Promise<unknown> = Promise.resolve();
  function ask<T extends CoreReply["type"]>(
    request: CoreRequest,
    expect: T,
  ): Promise<Extract<CoreReply, { type: T }>> {
    const next = queue.then(
      () =>
        new Promise<Extract<CoreReply, { type: T }>>((resolve, reject) => {
          const onMessage = (reply: CoreReply) => {
            if (reply.type !== expect && reply.type !== "failed") return;
            cleanup();
            if (reply.type === "failed") reject(new Error(`operator child: ${reply.error}`));
            else resolve(reply as Extract<CoreReply, { type: T }>);
          };
          const onExit = (code: number | null) => {
            cleanup();
            reject(new Error(`operator child exited (${code}) before answering ${request.type}`));
          };
          const cleanup = () => {
            child.off("message", onMessage);
            child.off("exit", onExit);
          };
          child.on("message", onMessage);
          child.once("exit", onExit);
          child.send(request);
        }),
    );
    queue = next.catch(() => {});
    return next;
  }

  let ready: Extract<CoreReply, { type: "ready" }>;
  try {
    ready = await ask({ type: "start", config }, "ready");
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await ask({ type: "stop" }, "stopped").catch(() => {});
      await exited;
      clearTimeout(killer);
    })();
    return stopped;
  };
  let first: string | undefined;
  const startCallsTo: CoreOperatorProcess["startCallsTo"] = async (name, options = {}) => {
    const { timeoutMs = 5_000, concurrency = 1 } = options;
    await ask({ type: "start-calls", name, timeoutMs, concurrency }, "calls-started");
  };
  const stopCallsTo = async (name: string) => (await ask({ type: "stop-calls", name }, "calls")).report;
  return {
    address: ready.address,
    target: `http://${ready.address}`,
    memory: async () => (await ask({ type: "memory" }, "memory")).memory,
    counters: async () => (await ask({ type: "counters" }, "counters")).counters,
    waitRegistered: async (name, timeoutMs = 10_000) =>
      (await ask({ type: "wait-registered", name, timeoutMs }, "wait-registered")).ok,
    // The harness's one call loop: the calls to the good plugin.
    startCalls: async (name, timeoutMs = 5_000) => {
      first = name;
      await startCallsTo(name, { timeoutMs });
    },
    stopCalls: () => stopCallsTo(first ?? ""),
    startCallsTo,
    stopCallsTo,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
