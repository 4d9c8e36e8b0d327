import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";

/** A message of either direction: tagged by `type`. A reply of type "failed" carries `error`. */
type Tagged = { type: string };

/** A child process driven by request/reply messages over IPC. */
export interface IpcChild<Request extends Tagged, Reply extends Tagged> {
  /** Sends `request` and resolves with the first reply of type `expect`; rejects on "failed" or exit. */
  ask<T extends Reply["type"]>(request: Request, expect: T): Promise<Extract<Reply, { type: T }>>;
  /** Asks the child to stop with `request`, then waits for its exit; kills it after 5 s. Idempotent. */
  stop(request: Request, expect: Reply["type"]): Promise<void>;
  /** Kills the child at once. */
  kill(): void;
}

/**
 * Forks `main` under tsx with `--expose-gc` (the hostile tests measure RSS
 * after a forced GC), sharing the test's stdout and stderr. Requests go one at
 * a time, so replies come back in order.
 */
export function forkIpcChild<Request extends Tagged, Reply extends Tagged>(
  main: string,
): IpcChild<Request, Reply> {
  const child: ChildProcess = fork(main, [], {
    execArgv: ["--conditions=opf-source", "--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = once(child, "exit");
  let queue: Promise<unknown> = Promise.resolve();
  const exchange = <T extends Reply["type"]>(request: Request, expect: T) =>
    new Promise<Extract<Reply, { type: T }>>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        if (reply.type !== expect && reply.type !== "failed") return;
        cleanup();
        if (reply.type === "failed")
          reject(new Error(`operator child: ${(reply as { error?: string }).error}`));
        else resolve(reply as Extract<Reply, { type: T }>);
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
    });
  const ask = <T extends Reply["type"]>(request: Request, expect: T) => {
    const next = queue.then(() => exchange(request, expect));
    queue = next.catch(() => {});
    return next;
  };
  let stopped: Promise<void> | undefined;
  const stop = (request: Request, expect: Reply["type"]) => {
    stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await ask(request, expect).catch(() => {});
      await exited;
      clearTimeout(killer);
    })();
    return stopped;
  };
  return { ask, stop, kill: () => child.kill("SIGKILL") };
}
