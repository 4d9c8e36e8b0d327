import { parseArgs } from "node:util";

/** How the example plugin is configured: flags first, then environment variables. */
export interface PluginConfig {
  /** The plugin's name, which is also the DNS provider it plays (aws, gcp, ...). */
  name: string;
  version: string;
  /** Every operator replica to keep a session with (repeat --target, or comma-separated). */
  target: string[];
  tokenFile: string | undefined;
  /** CA bundle for an `https://` target (for example the proxy's). */
  caFile: string | undefined;
  /** TLS server name to verify when it differs from the target's host. */
  serverName: string | undefined;
  /**
   * Serve `/readyz` and `/livez` (serveHealthEndpoints) on this port, for the
   * Deployment's httpGet probes; undefined: no HTTP server. 0 picks a free port.
   */
  healthPort: number | undefined;
  /** Stop when stdin closes, so a supervising parent that dies takes us with it. */
  exitWithParent: boolean;
  /** Record OpenTelemetry spans and print each as a JSON line on stdout (tracing.ts); default off. */
  traceStdout: boolean;
}

export function readConfig(argv: string[], env: NodeJS.ProcessEnv): PluginConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: "string" },
      version: { type: "string" },
      target: { type: "string", multiple: true },
      "token-file": { type: "string" },
      "ca-file": { type: "string" },
      "server-name": { type: "string" },
      "health-port": { type: "string" },
      "exit-with-parent": { type: "boolean" },
      "trace-stdout": { type: "boolean" },
    },
  });
  const name = values.name ?? env.PLUGIN_NAME;
  const target = (values.target ?? env.OPERATOR_TARGET?.split(",") ?? [])
    .map((t) => t.trim())
    .filter(Boolean);
  if (!name || target.length === 0) {
    throw new Error(
      "usage: plugin --name NAME --target http://127.0.0.1:PORT|https://HOST:PORT|dns+https://HOST:PORT|unix:///PATH " +
        "[--target …] " +
        "[--version V] [--token-file FILE] [--ca-file FILE] [--server-name NAME] [--health-port PORT] " +
        "(or PLUGIN_NAME, OPERATOR_TARGET, PLUGIN_VERSION, PLUGIN_TOKEN_FILE, PLUGIN_CA_FILE, PLUGIN_SERVER_NAME, " +
        "PLUGIN_HEALTH_PORT)",
    );
  }
  return {
    name,
    target,
    version: values.version ?? env.PLUGIN_VERSION ?? "0.1.0",
    tokenFile: values["token-file"] ?? env.PLUGIN_TOKEN_FILE,
    caFile: values["ca-file"] ?? env.PLUGIN_CA_FILE,
    serverName: values["server-name"] ?? env.PLUGIN_SERVER_NAME,
    healthPort: toPort(values["health-port"] ?? env.PLUGIN_HEALTH_PORT),
    exitWithParent: values["exit-with-parent"] ?? env.OPF_EXIT_WITH_PARENT === "1",
    traceStdout: values["trace-stdout"] ?? false,
  };
}

function toPort(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`expected a port for --health-port (PLUGIN_HEALTH_PORT), got "${text}"`);
  }
  return port;
}
