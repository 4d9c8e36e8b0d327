// The example operator: serves plugins, logs who registers, and calls every
// registered plugin periodically (and on demand from stdin). SIGTERM/SIGINT
// stop it gracefully: in-flight calls finish, plugins are told to go.
import { KubeConfig } from "@kubernetes/client-node";
import {
  proxyHeaderAuthenticator,
  subjectAccessReviewNameAuthorizer,
} from "@operator-plugin-framework/auth/operator";
import { createPluginServer } from "@operator-plugin-framework/server";
import { serveCommands } from "./commands.js";
import { readConfig } from "./config.js";
import { describeError, greetAll } from "./greeter-calls.js";
import { createJsonLogger } from "./json-logger.js";

const config = readConfig(process.argv.slice(2), process.env);
const logger = createJsonLogger({ component: "operator", pid: process.pid });
const stop = new AbortController();

const server = createPluginServer({
  listen: config.listen,
  logger,
  ...(config.maxConnectionAgeMs > 0 ? { maxConnectionAgeMs: config.maxConnectionAgeMs } : {}),
  ...(config.trustProxyHeaders
    ? {
        // Safe only because the listener is loopback behind kube-rbac-proxy
        // (--auth-header-fields-enabled), which overwrites these headers.
        authenticator: proxyHeaderAuthenticator(),
        // A plugin may register only the names an RBAC rule grants its
        // ServiceAccount (resourceNames), so nobody can take over another's name.
        authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig: loadKubeConfig(config.kubeconfig) }),
      }
    : {}),
});
const { registry } = server;

registry.on("registered", ({ session, remaining }) => {
  logger.info(
    {
      plugin: session.name,
      version: session.version,
      session: session.id,
      peer: session.peer,
      user: session.identity?.user,
      services: session.services.map((service) => service.name),
      replicas: remaining,
    },
    "registry: registered",
  );
});
registry.on("unregistered", ({ session, remaining }) => {
  logger.info({ plugin: session.name, session: session.id, replicas: remaining }, "registry: unregistered");
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "operator stopping");
    stop.abort();
  });
}
if (config.exitWithParent) {
  process.stdin.once("close", () => stop.abort());
}

const running = server.start(stop.signal);
try {
  const addresses = await server.ready();
  logger.info({ addresses }, "operator listening");
  const work: Promise<void>[] = [];
  if (config.callIntervalMs > 0) work.push(callPeriodically(config.callIntervalMs, stop.signal));
  if (config.commands) {
    work.push(serveCommands(process.stdin, registry, logger, config.callTimeoutMs, stop.signal));
  }
  await running;
  await Promise.all(work);
  // Nothing should keep the process alive now; stdin is ours to release.
  process.stdin.destroy();
  logger.info({}, "operator stopped");
} catch (err) {
  logger.error(describeError(err), "operator failed");
  stop.abort();
  await running.catch(() => {});
  process.exit(1);
}

/** The stand-in for a reconcile loop: greet through every plugin, every `intervalMs`. */
async function callPeriodically(intervalMs: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      const timer = setTimeout(wake, intervalMs);
      signal.addEventListener("abort", wake, { once: true });
    });
    if (signal.aborted) return;
    for (const { plugin, result } of await greetAll(registry, "operator", config.callTimeoutMs)) {
      if (result.status === "fulfilled")
        logger.info({ method: "SayHello", ...result.value }, "call answered");
      else logger.warn({ method: "SayHello", plugin, ...describeError(result.reason) }, "call failed");
    }
  }
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}
