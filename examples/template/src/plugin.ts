// The plugin process: dials the operator, registers as PLUGIN_NAME and serves
// QuotaService until SIGTERM/SIGINT, when it finishes in-flight calls and leaves.
import { readFileSync } from "node:fs";
import { closeOnSignals, connectPlugin } from "@operator-plugin-framework/client";
import { QuotaServiceService } from "./gen/quota/v1/quota.js";
import { createQuotaService } from "./quota-service.js";

const env = process.env;
const target = env.OPERATOR_TARGET;
if (!target) {
  throw new Error(
    "OPERATOR_TARGET is not set: give the operator's address, e.g. http://127.0.0.1:9443 " +
      "or dns+https://my-operator-headless.operators.svc:8443",
  );
}

const connection = connectPlugin({
  name: env.PLUGIN_NAME ?? "quota",
  version: env.PLUGIN_VERSION ?? "0.1.0",
  target,
  // In a cluster: a projected ServiceAccount token for kube-rbac-proxy, re-read on every reconnect.
  ...(env.PLUGIN_TOKEN_FILE ? { tokenFile: env.PLUGIN_TOKEN_FILE } : {}),
  // The CA that signed the proxy's certificate, and the name that certificate carries.
  ...(env.PLUGIN_CA_FILE
    ? { tls: { ca: readFileSync(env.PLUGIN_CA_FILE), serverName: env.PLUGIN_SERVER_NAME } }
    : {}),
  services: [[QuotaServiceService, createQuotaService(Number(env.QUOTA_LIMIT ?? "100"))]],
});
closeOnSignals(connection);
await connection.registered();
console.log(JSON.stringify({ msg: "plugin registered", target }));
