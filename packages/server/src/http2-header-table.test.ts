import { once } from "node:events";
import { connect, type Settings } from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { PluginServerImpl } from "./plugin-server.js";

describe("HPACK table of plugin connections", () => {
  let server: PluginServerImpl | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function start(): Promise<string> {
    server = new PluginServerImpl({ listen: "127.0.0.1:0", authenticator: "none" });
    void server.start();
    const [address] = await server.ready();
    return address!;
  }

  it("announces a header table size of 0 to every connection, not HTTP/2's 4,096", async () => {
    const session = connect(`http://${await start()}`);
    try {
      const [settings] = (await once(session, "remoteSettings")) as [Settings];
      expect(settings.headerTableSize).toBe(0);
    } finally {
      session.destroy();
    }
  });
});
