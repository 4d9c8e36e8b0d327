// The operator of the core (memory and liveness) attacks, in its own process
// so that its RSS is its own. Run with --expose-gc; driven over IPC by
// core-operator.ts. Unlike operator-child.ts it can call several plugins at
// once, the offender included, with several calls in flight.
import { status } from "@grpc/grpc-js";
import type { StreamAuthenticator } from "@operator-plugin-framework/auth";
import { allowAllNames } from "@operator-plugin-framework/auth/operator";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer, type Logger, type PluginServer } from "@operator-plugin-framework/server";
import type { CoreConfig, CoreReply, CoreRequest } from "./core-protocol.js";
import { exitWithParent } from "./exit-with-parent.js";
import type { CallReport, ChildCounters } from "./protocol.js";

const leaveParent = exitWithParent();

const counters: ChildCounters = { registered: 0, sessions: 0, refused: {} };
let server: PluginServer | undefined;
let running: Promise<void> | undefined;
const calls = new Map<string, () => Promise<CallReport>>();

function send(reply: CoreReply): void {
  process.send?.(reply);
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** With `slowAuthMs`, an authenticator that takes that long and admits everyone. */
function authentication(slowAuthMs: number | undefined) {
  if (slowAuthMs === undefined) return { authenticator: "none" as const };
  const authenticator: StreamAuthenticator = {
    mode: "slow",
    authenticate: async () => {
      await new Promise((resolve) => setTimeout(resolve, slowAuthMs));
      return { user: "system:serviceaccount:plugins:any", groups: [] };
    },
  };
  return { authenticator, authorizeName: allowAllNames() };
}

async function start(config: CoreConfig): Promise<void> {
  server = createPluginServer({
    listen: "127.0.0.1:0",
    drainGraceMs: 1_000,
    logger: quiet,
    ...authentication(config.slowAuthMs),
    ...(config.keepalive ? { keepalive: config.keepalive } : {}),
  });
  server.registry.on("registered", () => {
    counters.registered++;
    counters.sessions++;
  });
  server.registry.on("unregistered", () => {
    counters.sessions--;
  });
  running = server.start();
  const [address] = await server.ready();
  send({ type: "ready", address: address! });
}

/** `concurrency` loops calling `name` one call after another until stopped. */
function startCalls(name: string, timeoutMs: number, concurrency: number): () => Promise<CallReport> {
  const report: CallReport = { ok: 0, failed: 0, errors: [] };
  let stopping = false;
  const handle = server!.registry.get(name);
  const loop = async () => {
    while (!stopping) {
      try {
        await handle.call(GreeterServiceService.sayHello, { name: "good", delayMs: 0 }, { timeoutMs });
        report.ok++;
      } catch (err) {
        report.failed++;
        const code = (err as { code?: number }).code;
        const line = `${status[code ?? -1] ?? code}: ${(err as { details?: string }).details ?? err}`;
        if (report.errors.length < 5) report.errors.push(line);
      }
      // Yield to I/O between calls, so the loop measures service rather than starving the server.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return async () => {
    stopping = true;
    await Promise.all(loops);
    return report;
  };
}

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

process.on("message", async (request: CoreRequest) => {
  try {
    switch (request.type) {
      case "start":
        return await start(request.config);
      case "memory":
        return send({ type: "memory", memory: memory() });
      case "counters":
        return send({ type: "counters", counters: structuredClone(counters) });
      case "wait-registered": {
        const ok = await server!.registry.waitFor(request.name, { timeoutMs: request.timeoutMs }).then(
          () => true,
          () => false,
        );
        return send({ type: "wait-registered", ok });
      }
      case "start-calls":
        calls.set(request.name, startCalls(request.name, request.timeoutMs, request.concurrency));
        return send({ type: "calls-started" });
      case "stop-calls": {
        const stop = calls.get(request.name);
        calls.delete(request.name);
        const report = (await stop?.()) ?? { ok: 0, failed: 0, errors: ["no calls were started"] };
        return send({ type: "calls", report });
      }
      case "stop":
        await Promise.all([...calls.values()].map((stop) => stop()));
        await server?.stop();
        await running?.catch(() => {});
        send({ type: "stopped" });
        leaveParent();
        process.disconnect?.();
        return;
    }
  } catch (err) {
    send({ type: "failed", error: String(err) });
  }
});
