import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConnectPluginOptions,
  connectPlugin,
  type PluginConnection,
} from "@operator-plugin-framework/client";
import {
  createPluginServer,
  type PluginServer,
  type PluginServerOptions,
  quietLogger,
} from "@operator-plugin-framework/server";

/** A running plugin server and how to reach it. */
export interface TestServer extends AsyncDisposable {
  server: PluginServer;
  /** The first bound address, as a client target ("http://127.0.0.1:PORT" or "unix:///..."). */
  target: string;
  registry: PluginServer["registry"];
  close(): Promise<void>;
}

/**
 * Starts a plugin server on an ephemeral loopback port (default) or, with
 * `unixSocket: true`, on a socket in a fresh temporary directory. `close()`
 * stops it and removes the directory.
 */
export async function startTestServer(
  options: Partial<PluginServerOptions> & { unixSocket?: boolean } = {},
): Promise<TestServer> {
  const { unixSocket, ...rest } = options;
  let dir: string | undefined;
  let listen = rest.listen ?? "127.0.0.1:0";
  if (unixSocket) {
    dir = await mkdtemp(join(tmpdir(), "opf-"));
    listen = `unix://${join(dir, "plugins.sock")}`;
  }
  // Tests read outcomes, not logs: quiet unless a test passes its own logger.
  const server = createPluginServer({
    drainGraceMs: 1_000,
    authenticator: "none",
    logger: quietLogger,
    ...rest,
    listen,
  });
  const running = server.start();
  const [address] = await server.ready();
  const close = async () => {
    await server.stop();
    await running.catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  return {
    server,
    registry: server.registry,
    target: address!.startsWith("unix://") ? address! : `http://${address}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Connects an in-process plugin and waits until it is registered. */
export async function startTestPlugin(options: ConnectPluginOptions): Promise<PluginConnection> {
  const connection = connectPlugin({
    drainGraceMs: 1_000,
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  await connection.registered();
  return connection;
}
