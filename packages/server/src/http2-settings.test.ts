import { once } from "node:events";
import { type ClientHttp2Session, connect, type Settings } from "node:http2";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_HTTP2_WINDOW_SIZE } from "./http2-settings.js";
import { PluginServerImpl } from "./plugin-server.js";

const NODE_DEFAULT_WINDOW = 65_535;

/** What a plugin connecting to `address` is granted: the stream window from SETTINGS, and the connection window. */
async function windowsGranted(address: string): Promise<{ stream: number; connection: number }> {
  const session: ClientHttp2Session = connect(`http://${address}`);
  try {
    const [settings] = (await once(session, "remoteSettings")) as [Settings];
    // The server sends its WINDOW_UPDATE before it answers a ping sent later.
    await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
    return { stream: settings.initialWindowSize!, connection: session.state.remoteWindowSize! };
  } finally {
    session.destroy();
  }
}

describe("HTTP/2 windows of plugin connections", () => {
  let server: PluginServerImpl | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  async function start(http2WindowSize?: number): Promise<string> {
    server = new PluginServerImpl({ listen: "127.0.0.1:0", authenticator: "none", http2WindowSize });
    void server.start();
    const [address] = await server.ready();
    return address!;
  }

  it("grants 1 MiB for the stream and the connection by default, not Node's 64 KiB", async () => {
    const granted = await windowsGranted(await start());
    expect(DEFAULT_HTTP2_WINDOW_SIZE).toBe(1024 * 1024);
    expect(granted).toEqual({ stream: DEFAULT_HTTP2_WINDOW_SIZE, connection: DEFAULT_HTTP2_WINDOW_SIZE });
  });

  it("grants the size set with http2WindowSize, down to HTTP/2's own 65,535", async () => {
    expect(await windowsGranted(await start(300_000))).toEqual({ stream: 300_000, connection: 300_000 });
    await server!.stop();
    expect(await windowsGranted(await start(NODE_DEFAULT_WINDOW))).toEqual({
      stream: NODE_DEFAULT_WINDOW,
      connection: NODE_DEFAULT_WINDOW,
    });
  });

  it("refuses a size HTTP/2 does not allow, saying which sizes it does", () => {
    for (const size of [1000, 2 ** 31, 1.5e6 + 0.5]) {
      let caught: unknown;
      try {
        new PluginServerImpl({ listen: "127.0.0.1:0", authenticator: "none", http2WindowSize: size });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(PluginFrameworkError);
      expect((caught as PluginFrameworkError).code).toBe(status.INVALID_ARGUMENT);
      expect((caught as Error).message).toContain("from 65535 to 2147483647");
    }
  });
});

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
