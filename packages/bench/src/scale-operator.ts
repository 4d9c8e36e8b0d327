// The scale scenario's operator, in its own process (with --expose-gc) so that
// its RSS, CPU time and event loop are its own.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import {
  createPluginServer,
  type Logger,
  type PluginServer,
  quietLogger,
} from "@operator-plugin-framework/server";
import type { Handlers } from "./worker-protocol.js";

/** Memory of the operator process after two GCs, bytes. */
export interface Memory {
  rss: number;
  heapUsed: number;
}

/** What `waitRegistered` reports. */
export interface Registration {
  ok: boolean;
  registered: number;
  /** When the last awaited registration happened, epoch ms. */
  doneAt: number;
  /** Event-loop delay while waiting, ms. */
  eventLoop: { p99Ms: number; maxMs: number };
  /** Registrations per `bucketMs` from `since`. */
  curve: number[];
  /** The longest event-loop stalls while waiting (over 100 ms, at most 8): when, from `since`, and how long, ms. */
  stalls: { atMs: number; ms: number }[];
}

/** Samples the event loop every 20 ms, and keeps the stalls longer than 100 ms with when they began. */
function watchStalls(since: number): () => { atMs: number; ms: number }[] {
  const stalls: { atMs: number; ms: number }[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - last - 20;
    last = now;
    if (late > 100) stalls.push({ atMs: Math.round(Date.now() - late - since), ms: Math.round(late) });
  }, 20);
  return () => {
    clearInterval(timer);
    return stalls.sort((a, b) => b.ms - a.ms).slice(0, 8);
  };
}

export function createScaleOperator(): Handlers {
  let server: PluginServer | undefined;
  let running: Promise<void> | undefined;
  let listenedAt = Number.NaN;
  // The server's own account of its stop (phases, forced or not), for the storm's log.
  let stopped: object | undefined;
  const logger: Logger = {
    ...quietLogger,
    info: (fields, msg) => {
      if (msg === "plugin server stopped") stopped = fields;
    },
  };
  // Epoch ms of every registration: the storm's registrations-per-second curve.
  const stamps: number[] = [];
  const registry = () => {
    if (!server) throw new Error("the scale operator is not listening");
    return server.registry;
  };
  return {
    /** Listens on 127.0.0.1:`port` (0: any); resolves with the target. */
    async listen(args: { port: number }): Promise<string> {
      server = createPluginServer({
        listen: `127.0.0.1:${args.port}`,
        drainGraceMs: 1_000,
        authenticator: "none",
        logger,
      });
      server.registry.on("registered", () => stamps.push(Date.now()));
      running = server.start();
      const [address] = await server.ready();
      listenedAt = Date.now();
      return `http://${address}`;
    },
    /** When `listen` was bound, epoch ms: restarts are measured from here. */
    listenedAt: () => listenedAt,
    /** Registrations since `listen`, for progress reports. */
    count: () => stamps.length,
    memory(): Memory {
      globalThis.gc?.();
      globalThis.gc?.();
      const { rss, heapUsed } = process.memoryUsage();
      return { rss, heapUsed };
    },
    /** Resolves once `count` plugins have registered since `listen`, or at `timeoutMs`. */
    waitRegistered(args: {
      count: number;
      timeoutMs: number;
      since: number;
      bucketMs: number;
    }): Promise<Registration> {
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const stalls = watchStalls(args.since);
      const reg = registry();
      return new Promise((resolve) => {
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          off();
          delay.disable();
          const curve: number[] = [];
          for (const t of stamps) {
            const i = Math.max(0, Math.floor((t - args.since) / args.bucketMs));
            while (curve.length <= i) curve.push(0);
            curve[i]!++;
          }
          resolve({
            ok,
            registered: stamps.length,
            doneAt: stamps.length ? stamps[stamps.length - 1]! : Date.now(),
            eventLoop: { p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 },
            curve,
            stalls: stalls(),
          });
        };
        // Count events rather than listing sessions per event: that would be O(n²) in the benchmark itself.
        const off = reg.on("registered", () => {
          if (stamps.length >= args.count) finish(true);
        });
        const timer = setTimeout(() => finish(false), args.timeoutMs);
        if (stamps.length >= args.count) finish(true);
      });
    },
    /** One SayHello to every plugin at once. */
    async fanout(args: { names: string[]; timeoutMs: number }) {
      const reg = registry();
      const start = performance.now();
      const results = await Promise.allSettled(
        // In a promise: a plugin whose session just dropped (NOT_FOUND) is one failed call, not a failed fan-out.
        args.names.map(async (name) =>
          reg
            .get(name)
            .call(GreeterServiceService.sayHello, { name, delayMs: 0 }, { timeoutMs: args.timeoutMs }),
        ),
      );
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      return {
        ms: performance.now() - start,
        failed: failed.length,
        error: failed[0] ? String(failed[0].reason) : undefined,
      };
    },
    /** Stops the server as a rollout would (drain, then close); resolves with how long `stop()` took, ms, and its log fields. */
    async stop(): Promise<{ ms: number; fields: object | undefined }> {
      const start = performance.now();
      await server?.stop();
      await running?.catch(() => {});
      return { ms: performance.now() - start, fields: stopped };
    },
    async close(): Promise<void> {
      await server?.stop();
      await running?.catch(() => {});
    },
  };
}
