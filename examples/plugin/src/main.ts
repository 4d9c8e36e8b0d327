// The example plugin: serves GreeterService to its operator through one
// plugin stream, and closes gracefully on SIGTERM/SIGINT.
import { readFileSync } from "node:fs";
import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { readConfig } from "./config.js";
import { createGreeter } from "./greeter.js";
import { createJsonLogger } from "./json-logger.js";

const config = readConfig(process.argv.slice(2), process.env);
const logger = createJsonLogger({ plugin: config.name, pid: process.pid });

const connection = connectPlugin({
  name: config.name,
  version: config.version,
  target: config.target,
  tokenFile: config.tokenFile,
  tls: config.caFile ? { ca: readFileSync(config.caFile), serverName: config.serverName } : undefined,
  services: [[GreeterServiceService, createGreeter(`${config.name}/pid-${process.pid}`)]],
  logger,
});

let closing = false;
async function shutdown(reason: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ reason }, "plugin stopping");
  await connection.close();
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
