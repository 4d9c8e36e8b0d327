// The operator process: serves plugins on OPERATOR_LISTEN and, standing in for a
// reconcile loop, reserves one unit for tenant "demo" through the "quota"
// plugin every OPERATOR_CALL_INTERVAL_MS. SIGTERM/SIGINT drain and stop it.
import { KubeConfig } from "@kubernetes/client-node";
import {
  proxyHeaderAuthenticator,
  subjectAccessReviewNameAuthorizer,
} from "@operator-plugin-framework/auth/operator";
import { createPluginServer } from "@operator-plugin-framework/server";
import { reserve } from "./quota-calls.js";

const env = process.env;
const log = (msg: string, fields: object = {}) => console.log(JSON.stringify({ msg, ...fields }));

function kubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromDefault(); // in-cluster ServiceAccount, or KUBECONFIG
  return config;
}

const server = createPluginServer({
  listen: (env.OPERATOR_LISTEN ?? "127.0.0.1:9443").split(","),
  // In a cluster, behind kube-rbac-proxy on loopback: trust its identity
  // headers, and let a plugin register only the names RBAC grants it.
  ...(env.OPERATOR_TRUST_PROXY_HEADERS === "1"
    ? {
        authenticator: proxyHeaderAuthenticator(),
        authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig: kubeConfig() }),
      }
    : { authenticator: "none" as const }),
});
const stop = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => stop.abort());

server.registry.on("registered", ({ session }) => log("plugin registered", { plugin: session.name }));
const running = server.start(stop.signal);
log("operator listening", { addresses: await server.ready() });

const intervalMs = Number(env.OPERATOR_CALL_INTERVAL_MS ?? "5000");
const timer = setInterval(() => {
  if (!server.registry.has("quota")) return;
  reserve(server.registry, "quota", "demo", 1).then(
    (reply) => log("quota checked", { tenant: "demo", ...reply }),
    (error: { code?: number; details?: string }) =>
      log("quota check failed", { code: error.code, details: error.details }),
  );
}, intervalMs);
stop.signal.addEventListener("abort", () => clearInterval(timer), { once: true });
await running;
log("operator stopped");
