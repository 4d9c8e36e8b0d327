// The example plugin: a DNS provider with an in-memory zone, served to the
// operator through one plugin stream per operator replica. The same program
// plays every provider: `--name aws` and `--name gcp` are two plugins.
// Closes gracefully on SIGTERM/SIGINT.
import { readFileSync } from "node:fs";
import { connectPlugin, serveHealthEndpoints } from "@operator-plugin-framework/client";
import { DnsProviderServiceService } from "@operator-plugin-framework/proto/example/dns";
import { pino } from "pino";
import { readConfig } from "./config.js";
import { createDnsProvider } from "./dns-provider.js";
import { createInMemoryZone } from "./dns-zone.js";
import { createProgressReporter } from "./progress.js";

const config = readConfig(process.argv.slice(2), process.env);
// pino as it is: the framework's Logger is the subset of pino it uses. JSON lines on stdout.
const logger = pino({ base: { plugin: config.name, pid: process.pid } });
const zone = createInMemoryZone(config.name);

// Only with --trace-stdout: the OpenTelemetry SDK is not loaded otherwise.
if (config.traceStdout) (await import("./tracing.js")).registerStdoutTracing();

const connection = connectPlugin({
  name: config.name,
  version: config.version,
  target: config.target,
  tokenFile: config.tokenFile,
  tls: config.caFile ? { ca: readFileSync(config.caFile), serverName: config.serverName } : undefined,
  // Each change is reported back to the operator's ProgressService host service.
  services: [[DnsProviderServiceService, createDnsProvider(zone, logger, (report) => progress(report))]],
  logger,
  ...(config.traceStdout ? { tracing: true as const } : {}),
});

const progress = createProgressReporter(connection, logger);

// Opt-in /readyz (registered with at least one operator) and /livez, for the
// Deployment's httpGet probes.
const health =
  config.healthPort === undefined
    ? undefined
    : await serveHealthEndpoints(connection, { port: config.healthPort });
if (health) logger.info({ address: health.address }, "health endpoints listening");

let closing = false;
async function shutdown(reason: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ reason }, "plugin stopping");
  await connection.close();
  await health?.close();
  // Release stdin too, so nothing keeps the process alive: it exits on its own.
  process.stdin.destroy();
  logger.info({}, "plugin stopped");
}

process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
if (config.exitWithParent) {
  process.stdin.resume();
  process.stdin.once("close", () => void shutdown("parent went away"));
}
