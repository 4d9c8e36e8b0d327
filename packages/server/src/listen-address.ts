import { lstat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** A parsed listen address. */
export type ListenAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/**
 * Parses "unix:///abs/path", "HOST:PORT" or "[IPV6]:PORT" (port 0 picks a
 * free one), e.g. "127.0.0.1:9443" behind kube-rbac-proxy. Throws
 * INVALID_ARGUMENT for anything else. Which hosts are safe depends on the
 * authenticator; `createPluginServer` enforces that (proxy-header mode: loopback only).
 */
export function parseListenAddress(address: string): ListenAddress {
  if (address.startsWith("unix://")) {
    const path = address.slice("unix://".length);
    if (!path.startsWith("/")) {
      throw new PluginFrameworkError(
        status.INVALID_ARGUMENT,
        `unix listen address needs an absolute path: ${address}`,
      );
    }
    return { kind: "unix", path };
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      `invalid listen address ${JSON.stringify(address)}: use "127.0.0.1:PORT", "[::1]:PORT" or "unix:///abs/path"`,
    );
  }
  return { kind: "tcp", host: match[1] ?? match[2]!, port };
}

/** The address in the form grpc-js binds and clients dial. */
export function formatListenAddress(address: ListenAddress, port?: number): string {
  if (address.kind === "unix") return `unix://${address.path}`;
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${host}:${port ?? address.port}`;
}

/**
 * Removes a unix socket file left by a process that died, so binding works
 * after a crash. A socket someone still listens on is in use (an error, not
 * removed), and a file that is not a socket is never touched.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (!info.isSocket()) {
    throw new PluginFrameworkError(
      status.FAILED_PRECONDITION,
      `${path} exists and is not a socket; not removing it`,
    );
  }
  const live = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (live)
    throw new PluginFrameworkError(status.FAILED_PRECONDITION, `${path} is in use by a running server`);
  await unlink(path);
}
