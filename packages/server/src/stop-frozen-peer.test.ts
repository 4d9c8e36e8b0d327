import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { PluginServerImpl } from "./plugin-server.js";
import { registerMessage } from "./raw-plugin.test-support.js";

// A plugin in its own process, over plain node:http2, so that SIGSTOP can
// freeze it: it registers, then reads nothing, as a hung or swamped pod.
const pluginScript = `
const http2 = require("node:http2");
const [address, path, hex] = process.argv.slice(2);
const message = Buffer.from(hex, "hex");
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);
const session = http2.connect("http://" + address);
session.on("error", () => {});
const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
stream.on("error", () => {});
stream.on("data", () => {});
stream.write(frame);
`;

const register = PluginStreamMessage.encode(registerMessage("frozen")).finish();

describe("stop() with a frozen plugin", () => {
  // Without destroying the sockets, stop() waited for the frozen peer for good.
  it("resolves after the grace period and the forced close, though the plugin reads nothing", async () => {
    const server = new PluginServerImpl({ listen: "127.0.0.1:0", authenticator: "none", drainGraceMs: 100 });
    void server.start();
    const [address] = await server.ready();
    const dir = await mkdtemp(join(tmpdir(), "frozen-plugin-"));
    const script = join(dir, "plugin.cjs");
    await writeFile(script, pluginScript);
    const plugin = fork(script, [address!, PLUGIN_STREAM_PATH, Buffer.from(register).toString("hex")], {
      stdio: "ignore",
    });
    try {
      await server.registry.waitFor("frozen");
      plugin.kill("SIGSTOP");
      await server.stop();
      expect(server.state()).toBe("stopped");
    } finally {
      plugin.kill("SIGKILL");
      await once(plugin, "exit");
      await rm(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
