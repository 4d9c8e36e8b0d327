// The parent's side of the worker processes: fork, request/reply over the IPC
// channel, and cleanup that holds on every way out (normal end, a failed
// scenario, Ctrl-C, SIGTERM). The children's side is worker.ts.
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { Reply, Request, RoleName } from "./worker-protocol.js";

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

// Synchronous on purpose: an "exit" listener cannot await. SIGKILL, since a
// child that is wedged in a scenario would not answer a polite request.
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping ${live.size} worker process(es)\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Extra Node flags (e.g. `--expose-gc`, `--cpu-prof`). Default none. */
  nodeFlags?: string[];
  /** Time the worker has to load and report ready. Default 60 000 ms. */
  readyTimeoutMs?: number;
}

/** A forked worker process serving the handlers of its roles. */
export class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private exitError: Error | undefined;
  /** Settles when the process has exited, with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = once(child, "exit").then(([code, signal]) => {
      live.delete(child);
      this.exitError = new Error(`worker ${label} exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) p.reject(this.exitError);
      this.pending.clear();
      return { code, signal };
    });
    child.on("message", (reply: Reply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.error === undefined) p.resolve(reply.value);
      else p.reject(new Error(`${label}: ${reply.error}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Calls `method` in the worker; rejects on its error, on its exit, or after `timeoutMs`. */
  call<T>(method: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, method, args } satisfies Request);
    });
  }

  /** Closes the IPC channel without asking the roles to close anything: what the worker sees when the parent dies. */
  disconnect(): void {
    if (this.child.connected) this.child.disconnect();
  }

  /** Asks the roles to release what they hold, then disconnects; SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exitError) return;
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      await this.call("close", {}, graceMs).catch(() => {});
      if (this.child.connected) this.child.disconnect();
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Forks a worker process with these roles and waits until it is ready. */
export async function startWorker(label: string, roles: RoleName[], options: WorkerOptions = {}) {
  hookExit();
  const entry = fileURLToPath(new URL("./worker.ts", import.meta.url));
  const child = fork(entry, roles, {
    execArgv: ["--conditions=opf-source", "--import", "tsx", ...(options.nodeFlags ?? [])],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  live.add(child);
  const worker = new Worker(label, child);
  const ready = new Promise<void>((resolve) => child.once("message", () => resolve()));
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`worker ${label} not ready in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      ready,
      worker.exited.then(() => Promise.reject(new Error(`worker ${label} died`))),
      timeout,
    ]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return worker;
}

/** Stops every worker given, in parallel; never throws. */
export async function stopAll(workers: readonly (Worker | undefined)[]): Promise<void> {
  await Promise.allSettled(workers.map((w) => w?.stop()));
}
