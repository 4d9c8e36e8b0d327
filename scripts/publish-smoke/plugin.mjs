// The plugin role's smoke test, run from a directory where only
// @operator-plugin-framework/client and /auth were installed from the registry.
// Usage: node plugin.mjs TARGET. Serves EchoService until SIGTERM.
import { staticToken } from "@operator-plugin-framework/auth/token";
import { closeOnSignals, connectPlugin } from "@operator-plugin-framework/client";
import { EchoService } from "./echo-service.mjs";

const [target] = process.argv.slice(2);
const connection = connectPlugin({
  name: "smoke",
  version: "1.0.0",
  target,
  // Sent to a loopback target only; the smoke operator does not check it.
  token: staticToken("smoke-token"),
  services: [[EchoService, { echo: (call, callback) => callback(null, { echoed: call.request.text }) }]],
});
closeOnSignals(connection);
await connection.registered();
console.log("plugin registered");
