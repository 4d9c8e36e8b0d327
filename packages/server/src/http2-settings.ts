import type { Http2Server, Http2Session } from "node:http2";
import { type Server, status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { newHttp2Servers } from "./grpc-http2-servers.js";

/**
 * The HTTP/2 receive window the operator grants each plugin connection by
 * default, for the connection and for its stream: 1 MiB. Node's own 64 KiB
 * made a plugin's sends wait for a window update every 64 KiB, a round trip
 * through both event loops; a bulk transfer then crawled, and a small reply
 * queued behind it waited for several of those round trips. Measured in the
 * deployment layout: 16 MiB transfers 2-3x faster, and a small call during
 * them half as slow at p50.
 */
export const DEFAULT_HTTP2_WINDOW_SIZE = 1024 * 1024;

/** RFC 9113, 6.9.1: a window may not exceed 2^31 - 1; HTTP/2 starts every window at 65,535. */
const MIN_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;

/** Returns `size`, or throws INVALID_ARGUMENT saying which sizes HTTP/2 allows. */
export function checkHttp2WindowSize(size: number): number {
  if (Number.isInteger(size) && size >= MIN_WINDOW && size <= MAX_WINDOW) return size;
  throw new PluginFrameworkError(
    status.INVALID_ARGUMENT,
    `http2WindowSize must be a whole number of bytes from ${MIN_WINDOW} to ${MAX_WINDOW}, got ${size}`,
  );
}

const configured = new WeakSet<Http2Server>();

/**
 * The HTTP/2 settings of every connection to `server`'s plugin port, in one
 * place. A receive window of `windowSize` bytes: for its streams through
 * SETTINGS_INITIAL_WINDOW_SIZE, sent with the server's first SETTINGS, and
 * for the connection through a WINDOW_UPDATE as it opens. And
 * SETTINGS_HEADER_TABLE_SIZE 0: a plugin connection carries one stream for
 * its whole life, and a connection's first header block finds the HPACK
 * dynamic table empty, so it saves nothing there, while nghttp2 keeps it per
 * connection, about 0.5 KiB of the operator's memory per session (measured
 * with packages/bench/src/session-heap.ts). Call after every `bindAsync`;
 * idempotent per HTTP/2 server.
 */
export function configurePluginConnections(server: Server, windowSize: number): void {
  for (const http2Server of newHttp2Servers(server, configured)) {
    http2Server.updateSettings({ initialWindowSize: windowSize, headerTableSize: 0 });
    http2Server.on("session", (session: Http2Session) => session.setLocalWindowSize(windowSize));
  }
}
