import { parseArgs } from "node:util";

/** How the example operator is configured: flags first, then environment variables. */
export interface OperatorConfig {
  /** Listen addresses: "127.0.0.1:PORT" (behind kube-rbac-proxy) or "unix:///abs/path". */
  listen: string[];
  /** Call every registered plugin this often; 0 disables the loop. */
  callIntervalMs: number;
  /** Deadline of each call the operator makes. */
  callTimeoutMs: number;
  /** Read `call …` commands from stdin (one JSON object per line). */
  commands: boolean;
  /**
   * Trust kube-rbac-proxy's identity headers, and let an identity register
   * only the plugin names RBAC grants it (SubjectAccessReview, verb
   * `register` on `plugins.pluginframework.io`). Only for a loopback listener
   * behind the proxy.
   */
  trustProxyHeaders: boolean;
  /**
   * The kubeconfig for those SubjectAccessReviews. Undefined: the client's
   * default (`KUBECONFIG`, `~/.kube/config`, or the in-cluster ServiceAccount).
   */
  kubeconfig: string | undefined;
  /**
   * Drain a plugin's session after this age, so the plugin reconnects with its
   * current (rotated) token and is authorized again; 0 turns it off.
   */
  maxConnectionAgeMs: number;
  /** Stop when stdin closes, so a supervising parent that dies takes us with it. */
  exitWithParent: boolean;
}

export function readConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: "string", multiple: true },
      "call-interval-ms": { type: "string" },
      "call-timeout-ms": { type: "string" },
      commands: { type: "boolean" },
      "trust-proxy-headers": { type: "boolean" },
      kubeconfig: { type: "string" },
      "max-connection-age-ms": { type: "string" },
      "exit-with-parent": { type: "boolean" },
    },
  });
  const listen = values.listen ?? (env.OPERATOR_LISTEN ?? "127.0.0.1:9443").split(",");
  return {
    listen: listen.map((address) => address.trim()).filter(Boolean),
    callIntervalMs: toMs(values["call-interval-ms"] ?? env.OPERATOR_CALL_INTERVAL_MS ?? "5000"),
    callTimeoutMs: toMs(values["call-timeout-ms"] ?? env.OPERATOR_CALL_TIMEOUT_MS ?? "2000"),
    commands: values.commands ?? env.OPERATOR_COMMANDS === "1",
    trustProxyHeaders: values["trust-proxy-headers"] ?? env.OPERATOR_TRUST_PROXY_HEADERS === "1",
    kubeconfig: values.kubeconfig,
    maxConnectionAgeMs: toMs(
      values["max-connection-age-ms"] ?? env.OPERATOR_MAX_CONNECTION_AGE_MS ?? "600000",
    ),
    exitWithParent: values["exit-with-parent"] ?? env.OPF_EXIT_WITH_PARENT === "1",
  };
}

function toMs(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`expected milliseconds, got "${text}"`);
  return value;
}
