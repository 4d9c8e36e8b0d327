import { hostname } from "node:os";
import { parseArgs } from "node:util";

/** How the example operator is configured: flags first, then environment variables. */
export interface OperatorConfig {
  /** Listen addresses: "127.0.0.1:PORT" (behind kube-rbac-proxy) or "unix:///abs/path". */
  listen: string[];
  /** Deadline of each call the operator makes to a plugin. */
  callTimeoutMs: number;
  /**
   * Trust kube-rbac-proxy's identity headers, and let an identity register
   * only the plugin names RBAC grants it (SubjectAccessReview, verb
   * `register` on `plugins.pluginframework.io`). Only for a loopback listener
   * behind the proxy.
   */
  trustProxyHeaders: boolean;
  /** Accept plugins without any authentication: local development and tests only. */
  allowUnauthenticated: boolean;
  /**
   * The kubeconfig for the API calls (DNSRecords, the Lease, reviews).
   * Undefined: the client's default (`KUBECONFIG`, `~/.kube/config`, or the
   * in-cluster ServiceAccount).
   */
  kubeconfig: string | undefined;
  /**
   * Drain a plugin's session after this age, so the plugin reconnects with its
   * current (rotated) token and is authorized again; 0 turns it off.
   */
  maxConnectionAgeMs: number;
  /** The namespace whose DNSRecords are reconciled, and where the Lease lives. */
  namespace: string;
  /** The Lease that elects the replica that reconciles. */
  leaseName: string;
  /** This replica's name in the Lease: the pod name in a cluster. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /**
   * Where the gRPC health probe (grpc.health.v1) listens, for the kubelet's
   * `grpc` probes, which dial the pod IP: "0.0.0.0:8081" by default, "" turns
   * the separate probe port off (the plugin port still serves health).
   */
  healthListen: string;
  /**
   * Where Prometheus scrapes `GET /metrics` (the framework's
   * `pluginframework_*` metrics and Node's process metrics):
   * "0.0.0.0:8080" by default, like controller-runtime; "" turns it off.
   */
  metricsListen: string;
  /**
   * Where the admin service for the `opf` CLI listens: loopback or a unix
   * socket only, "127.0.0.1:9091" by default (opf's default); "" turns it off.
   * Reach it with `kubectl port-forward` or `kubectl exec`.
   */
  adminListen: string;
  /**
   * The admin service's descriptors (a FileDescriptorSet, `buf build -o`), so
   * `opf call` needs no `--proto`: the example's own `descriptors/dns.binpb`
   * by default (undefined here); "" serves none.
   */
  descriptorSet: string | undefined;
  /** Stop when stdin closes, so a supervising parent that dies takes us with it. */
  exitWithParent: boolean;
  /** Record OpenTelemetry spans and print each as a JSON line on stdout (tracing.ts); default off. */
  traceStdout: boolean;
}

export function readConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: "string", multiple: true },
      "call-timeout-ms": { type: "string" },
      "trust-proxy-headers": { type: "boolean" },
      "allow-unauthenticated": { type: "boolean" },
      kubeconfig: { type: "string" },
      "max-connection-age-ms": { type: "string" },
      namespace: { type: "string" },
      "lease-name": { type: "string" },
      identity: { type: "string" },
      "lease-duration-ms": { type: "string" },
      "renew-deadline-ms": { type: "string" },
      "retry-period-ms": { type: "string" },
      "health-listen": { type: "string" },
      "metrics-listen": { type: "string" },
      "admin-listen": { type: "string" },
      "descriptor-set": { type: "string" },
      "exit-with-parent": { type: "boolean" },
      "trace-stdout": { type: "boolean" },
    },
  });
  const listen = values.listen ?? (env.OPERATOR_LISTEN ?? "127.0.0.1:9443").split(",");
  const ms = (flag: string | undefined, name: string, fallback: string) =>
    toMs(flag ?? env[name] ?? fallback);
  return {
    listen: listen.map((address) => address.trim()).filter(Boolean),
    callTimeoutMs: ms(values["call-timeout-ms"], "OPERATOR_CALL_TIMEOUT_MS", "5000"),
    trustProxyHeaders: values["trust-proxy-headers"] ?? env.OPERATOR_TRUST_PROXY_HEADERS === "1",
    allowUnauthenticated: values["allow-unauthenticated"] ?? false,
    kubeconfig: values.kubeconfig,
    maxConnectionAgeMs: ms(values["max-connection-age-ms"], "OPERATOR_MAX_CONNECTION_AGE_MS", "600000"),
    namespace: values.namespace ?? env.POD_NAMESPACE ?? "default",
    leaseName: values["lease-name"] ?? env.OPERATOR_LEASE_NAME ?? "example-operator",
    identity: values.identity ?? env.POD_NAME ?? `${hostname()}-${process.pid}`,
    // client-go's defaults.
    leaseDurationMs: ms(values["lease-duration-ms"], "OPERATOR_LEASE_DURATION_MS", "15000"),
    renewDeadlineMs: ms(values["renew-deadline-ms"], "OPERATOR_RENEW_DEADLINE_MS", "10000"),
    retryPeriodMs: ms(values["retry-period-ms"], "OPERATOR_RETRY_PERIOD_MS", "2000"),
    healthListen: (values["health-listen"] ?? env.OPERATOR_HEALTH_LISTEN ?? "0.0.0.0:8081").trim(),
    metricsListen: (values["metrics-listen"] ?? env.OPERATOR_METRICS_LISTEN ?? "0.0.0.0:8080").trim(),
    adminListen: (values["admin-listen"] ?? env.OPERATOR_ADMIN_LISTEN ?? "127.0.0.1:9091").trim(),
    descriptorSet: values["descriptor-set"] ?? env.OPERATOR_DESCRIPTOR_SET,
    exitWithParent: values["exit-with-parent"] ?? env.OPF_EXIT_WITH_PARENT === "1",
    traceStdout: values["trace-stdout"] ?? false,
  };
}

function toMs(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`expected milliseconds, got "${text}"`);
  return value;
}
