// The operator role's smoke test, run from a directory where server, registry,
// auth and @kubernetes/client-node were installed from the registry. It starts
// a plugin server, starts the plugin role's process (node PLUGIN_DIR/plugin.mjs),
// waits for it to register and makes one call through its stream.
// Usage: node operator.mjs PLUGIN_DIR
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { subjectAccessReviewNameAuthorizer } from "@operator-plugin-framework/auth/operator";
import { createPluginServer } from "@operator-plugin-framework/server";
import { EchoService } from "./echo-service.mjs";

const [pluginDir] = process.argv.slice(2);

// Loads the Kubernetes client (an optional peer of auth) the way an operator
// does; nothing is called, there is no cluster here.
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: "none", server: "https://127.0.0.1:1" }],
  users: [{ name: "none" }],
  contexts: [{ name: "none", cluster: "none", user: "none" }],
  currentContext: "none",
});
subjectAccessReviewNameAuthorizer({ kubeConfig });

const server = createPluginServer({ listen: "127.0.0.1:0", authenticator: "none" });
const running = server.start();
const [address] = await server.ready();
console.log(`operator listening on ${address}`);

const plugin = spawn(process.execPath, [join(pluginDir, "plugin.mjs"), `http://${address}`], {
  cwd: pluginDir,
  stdio: ["ignore", "inherit", "inherit"],
});
const exited = once(plugin, "exit");
let reply;
try {
  await server.registry.waitFor("smoke", { timeoutMs: 30_000 });
  reply = await server.registry.get("smoke").call(EchoService.echo, { text: "ping" }, { timeoutMs: 5_000 });
} finally {
  plugin.kill("SIGTERM");
}
const [code, signal] = await exited;
await server.stop();
await running;
if (reply.echoed !== "ping") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
console.log(`operator called the plugin: ${JSON.stringify(reply)}`);
if (code !== 0) throw new Error(`the plugin exited with ${code ?? signal}, expected 0 after SIGTERM`);
console.log("smoke: ok");
