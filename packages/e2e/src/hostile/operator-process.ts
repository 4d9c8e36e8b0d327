import { fileURLToPath } from "node:url";
import { forkIpcChild } from "./ipc-child.js";
import type {
  CallReport,
  ChildConfig,
  ChildCounters,
  ChildMemory,
  ChildReply,
  ChildRequest,
} from "./protocol.js";

/** An operator running in its own process, driven over IPC. */
export interface OperatorProcess extends AsyncDisposable {
  /** "127.0.0.1:PORT", where plugins and attackers connect. */
  readonly address: string;
  /** `http://` + address, as plugins dial it. */
  readonly target: string;
  /** Forces a GC in the operator, then reports its memory. */
  memory(): Promise<ChildMemory>;
  counters(): Promise<ChildCounters>;
  /** Resolves true once a session of `name` takes calls, false after `timeoutMs`. */
  waitRegistered(name: string, timeoutMs?: number): Promise<boolean>;
  /** Starts calling `name` one call after another until `stopCalls()`. */
  startCalls(name: string, timeoutMs?: number): Promise<void>;
  /** Stops the calls and reports how they went. */
  stopCalls(): Promise<CallReport>;
  /** Stops the operator gracefully, or kills it after 5 s. */
  stop(): Promise<void>;
}

const main = fileURLToPath(new URL("./operator-child.ts", import.meta.url));

/** Forks the operator child with `--expose-gc` and resolves once it listens. */
export async function startOperatorProcess(config: ChildConfig): Promise<OperatorProcess> {
  const child = forkIpcChild<ChildRequest, ChildReply>(main);
  const ask = child.ask;
  let ready: Extract<ChildReply, { type: "ready" }>;
  try {
    ready = await ask({ type: "start", config }, "ready");
  } catch (err) {
    child.kill();
    throw err;
  }
  const stop = () => child.stop({ type: "stop" }, "stopped");
  return {
    address: ready.address,
    target: `http://${ready.address}`,
    memory: async () => (await ask({ type: "memory" }, "memory")).memory,
    counters: async () => (await ask({ type: "counters" }, "counters")).counters,
    waitRegistered: async (name, timeoutMs = 10_000) =>
      (await ask({ type: "wait-registered", name, timeoutMs }, "wait-registered")).ok,
    startCalls: async (name, timeoutMs = 5_000) => {
      await ask({ type: "start-calls", name, timeoutMs }, "calls-started");
    },
    stopCalls: async () => (await ask({ type: "stop-calls" }, "calls")).report,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
