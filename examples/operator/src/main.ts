// The example operator: a DNS controller whose providers are plugins.
// Every replica serves plugins (so whichever replica leads already has them
// all); only the replica holding the Lease reconciles DNSRecords.
// SIGTERM/SIGINT stop it gracefully: the controller stops, the Lease is
// released for the next replica, in-flight calls finish, plugins are told to go.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import {
  proxyHeaderAuthenticator,
  subjectAccessReviewNameAuthorizer,
} from "@operator-plugin-framework/auth/operator";
import { ProgressServiceService } from "@operator-plugin-framework/proto/example/progress";
import { createAdminServer, createPluginServer } from "@operator-plugin-framework/server";
import { createLeaderElector } from "@operator-plugin-framework/server/leader-election";
import { pino } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { readConfig } from "./config.js";
import { runController } from "./controller.js";
import { type MetricsServer, serveMetrics } from "./metrics-server.js";
import { createProgressService } from "./progress-service.js";

const config = readConfig(process.argv.slice(2), process.env);
// pino as it is: the framework's Logger is the subset of pino it uses. JSON lines on stdout.
const logger = pino({ base: { component: "operator", identity: config.identity, pid: process.pid } });
const kubeConfig = loadKubeConfig(config.kubeconfig);
const stop = new AbortController();
// The operator's own registry: the framework's metrics and Node's process metrics, nothing global.
const metrics = new Registry();
collectDefaultMetrics({ register: metrics });

// Only with --trace-stdout: the OpenTelemetry SDK is not loaded otherwise.
if (config.traceStdout) (await import("./tracing.js")).registerStdoutTracing();

const server = createPluginServer({
  listen: config.listen,
  logger,
  ...(config.traceStdout ? { tracing: true as const } : {}),
  // grpc.health.v1 on the plugin port, and on its own port for the kubelet's
  // grpc probes (the plugin port is loopback, behind kube-rbac-proxy).
  health: config.healthListen ? { listen: config.healthListen } : true,
  metrics: { registry: metrics },
  // A host service: plugins report their progress back through their own streams.
  hostServices: [[ProgressServiceService, createProgressService(logger)]],
  ...(config.maxConnectionAgeMs > 0 ? { maxConnectionAgeMs: config.maxConnectionAgeMs } : {}),
  ...(config.trustProxyHeaders
    ? {
        // Safe only because the listener is loopback behind kube-rbac-proxy
        // (--auth-header-fields-enabled), which overwrites these headers.
        authenticator: proxyHeaderAuthenticator(),
        // A plugin may register only the names an RBAC rule grants its
        // ServiceAccount (resourceNames), so nobody can take over another's name.
        authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig }),
      }
    : config.allowUnauthenticated
      ? { authenticator: "none" as const }
      : {}),
});
const { registry } = server;

registry.on("registered", ({ session, remaining }) => {
  logger.info(
    {
      plugin: session.name,
      version: session.version,
      session: session.id,
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

// Each term of leadership runs one controller; a new term waits for the last to stop.
let controller: Promise<void> = Promise.resolve();
const elector = createLeaderElector({
  kubeConfig,
  namespace: config.namespace,
  leaseName: config.leaseName,
  identity: config.identity,
  leaseDurationMs: config.leaseDurationMs,
  renewDeadlineMs: config.renewDeadlineMs,
  retryPeriodMs: config.retryPeriodMs,
  logger,
  onStartedLeading(signal) {
    logger.info({}, "leader: started leading");
    const options = {
      kubeConfig,
      namespace: config.namespace,
      registry,
      logger,
      callTimeoutMs: config.callTimeoutMs,
    };
    controller = controller
      .then(() => runController(options, signal))
      .catch((err: unknown) => logger.error({ error: String(err) }, "controller failed"));
  },
  // On a graceful stop the Lease is released once this settles: after the
  // controller has stopped, so the next leader never overlaps with it.
  async onStoppedLeading() {
    logger.info({}, "leader: stopped leading");
    await controller;
  },
  onNewLeader(leader) {
    logger.info({ leader }, "leader: observed");
  },
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "operator stopping");
    stop.abort();
  });
}
if (config.exitWithParent) {
  process.stdin.resume();
  process.stdin.once("close", () => stop.abort());
}

// `opf` talks to this (kubectl exec / port-forward); it never listens beyond loopback.
const admin = config.adminListen
  ? createAdminServer({
      registry,
      listen: config.adminListen,
      logger,
      fileDescriptorSet: readDescriptorSet(config.descriptorSet),
    })
  : undefined;
let metricsServer: MetricsServer | undefined;
const serving = server.start(stop.signal);
const adminServing = admin?.start(stop.signal);
try {
  const addresses = await server.ready();
  metricsServer = config.metricsListen ? await serveMetrics(config.metricsListen, metrics) : undefined;
  logger.info(
    {
      addresses,
      health: server.healthAddress,
      metrics: metricsServer?.address,
      admin: await admin?.ready(),
    },
    "operator listening",
  );
  // The plugin server never waits for leadership: it is already serving.
  await Promise.all([serving, adminServing, elector.start(stop.signal)]);
  await metricsServer?.close();
  await controller;
  // Nothing should keep the process alive now; stdin is ours to release.
  process.stdin.destroy();
  logger.info({}, "operator stopped");
} catch (err) {
  logger.error({ error: String(err) }, "operator failed");
  stop.abort();
  await Promise.all([serving.catch(() => {}), adminServing?.catch(() => {}), metricsServer?.close()]);
  process.exit(1);
}

/**
 * The descriptors `opf call` uses instead of `--proto`: the given file, or the
 * example's own (descriptors/dns.binpb, made by `npm run descriptors`), which
 * may be missing from a trimmed install: then opf call needs --proto.
 */
function readDescriptorSet(path: string | undefined): Buffer | undefined {
  if (path === "") return undefined;
  if (path !== undefined) return readFileSync(path);
  const bundled = new URL("../descriptors/dns.binpb", import.meta.url);
  if (existsSync(bundled)) return readFileSync(bundled);
  logger.warn(
    { path: fileURLToPath(bundled) },
    "no descriptors for the admin service; opf call will need --proto",
  );
  return undefined;
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}
