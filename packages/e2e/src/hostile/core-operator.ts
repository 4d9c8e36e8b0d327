import { fileURLToPath } from "node:url";
import type { CoreConfig, CoreReply, CoreRequest } from "./core-protocol.js";
import { forkIpcChild } from "./ipc-child.js";
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
  const child = forkIpcChild<CoreRequest, CoreReply>(main);
  const ask = child.ask;
  let ready: Extract<CoreReply, { type: "ready" }>;
  try {
    ready = await ask({ type: "start", config }, "ready");
  } catch (err) {
    child.kill();
    throw err;
  }
  const stop = () => child.stop({ type: "stop" }, "stopped");
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
