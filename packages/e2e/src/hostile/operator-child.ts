// The operator of the hostile-input tests, in its own process so that its RSS
// is its own and a forced GC measures what the attack left behind. Run with
// --expose-gc; driven over IPC (see protocol.ts and operator-process.ts).
import { KubeConfig } from "@kubernetes/client-node";
import type { PluginNameAuthorizer, StreamAuthenticator } from "@operator-plugin-framework/auth";
import {
  allowAllNames,
  nameAuthorizer,
  proxyHeaderAuthenticator,
  tokenReviewAuthenticator,
} from "@operator-plugin-framework/auth/operator";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer, type Logger, type PluginServer } from "@operator-plugin-framework/server";
import { Registry } from "prom-client";
import { exitWithParent } from "./exit-with-parent.js";
import type { CallReport, ChildConfig, ChildCounters, ChildReply, ChildRequest } from "./protocol.js";

const leaveParent = exitWithParent();

const counters: ChildCounters = { registered: 0, sessions: 0, refused: {} };
let server: PluginServer | undefined;
let running: Promise<void> | undefined;
let calls: { stop: () => Promise<CallReport> } | undefined;

function send(reply: ChildReply): void {
  process.send?.(reply);
}

// Refusals are counted by the server's own metrics (log lines are rate-limited);
// the log keeps everything but errors off the test's output.
const metrics = new Registry();

async function refusalsByReason(): Promise<Record<string, number>> {
  const metric = metrics.getSingleMetric("pluginframework_refusals_total");
  const refused: Record<string, number> = {};
  for (const { labels, value } of (await metric?.get())?.values ?? []) refused[String(labels.reason)] = value;
  return refused;
}

const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(obj, msg) {
    process.stderr.write(`${JSON.stringify({ ...obj, msg })}\n`);
  },
};

function authenticatorFor(config: ChildConfig): StreamAuthenticator | "none" {
  const auth = config.auth;
  switch (auth.mode) {
    case "none":
      return "none";
    case "proxy-headers":
      return proxyHeaderAuthenticator({ trustProxyHeadersFrom: auth.trustProxyHeadersFrom ?? [] });
    case "token-review": {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromString(auth.kubeconfig);
      return tokenReviewAuthenticator({
        kubeConfig,
        audiences: auth.audiences,
        reviewTimeoutMs: auth.reviewTimeoutMs,
        authorize: false,
      });
    }
  }
}

function namePolicyFor(config: ChildConfig): PluginNameAuthorizer | undefined {
  if (config.auth.mode === "none") return undefined;
  if (config.namePolicy === "all") return allowAllNames();
  return nameAuthorizer((identity, name) => identity.serviceAccount?.name === name);
}

async function start(config: ChildConfig): Promise<void> {
  server = createPluginServer({
    listen: "127.0.0.1:0",
    drainGraceMs: 1_000,
    logger,
    metrics: { registry: metrics },
    authenticator: authenticatorFor(config),
    authorizeName: namePolicyFor(config),
    ...(config.registerTimeoutMs === undefined ? {} : { registerTimeoutMs: config.registerTimeoutMs }),
    ...config.caps,
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

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

/** Calls `name` one call after another until stopped, counting outcomes. */
function startCalls(name: string, timeoutMs: number): { stop: () => Promise<CallReport> } {
  const report: CallReport = { ok: 0, failed: 0, errors: [] };
  let stopping = false;
  const loop = (async () => {
    const handle = server!.registry.get(name);
    while (!stopping) {
      try {
        await handle.call(GreeterServiceService.sayHello, { name: "good", delayMs: 0 }, { timeoutMs });
        report.ok++;
      } catch (err) {
        report.failed++;
        if (report.errors.length < 5) report.errors.push(String(err));
      }
      // Yield to I/O between calls, so the loop measures service rather than starving the server.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return report;
    },
  };
}

process.on("message", async (request: ChildRequest) => {
  try {
    switch (request.type) {
      case "start":
        await start(request.config);
        return;
      case "memory":
        send({ type: "memory", memory: memory() });
        return;
      case "counters":
        send({
          type: "counters",
          counters: { ...structuredClone(counters), refused: await refusalsByReason() },
        });
        return;
      case "wait-registered":
        await server!.registry.waitFor(request.name, { timeoutMs: request.timeoutMs }).then(
          () => send({ type: "wait-registered", ok: true }),
          () => send({ type: "wait-registered", ok: false }),
        );
        return;
      case "start-calls":
        calls = startCalls(request.name, request.timeoutMs);
        send({ type: "calls-started" });
        return;
      case "stop-calls": {
        const report = (await calls?.stop()) ?? { ok: 0, failed: 0, errors: ["no calls were started"] };
        calls = undefined;
        send({ type: "calls", report });
        return;
      }
      case "stop":
        await calls?.stop();
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
