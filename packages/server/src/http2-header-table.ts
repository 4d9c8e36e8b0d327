import type { Http2Server } from "node:http2";
import type { Server } from "@grpc/grpc-js";
import { newHttp2Servers } from "./grpc-http2-servers.js";

const emptied = new WeakSet<Http2Server>();

/**
 * Announces SETTINGS_HEADER_TABLE_SIZE 0 on every connection to `server`'s
 * plugin port: plugins encode their headers without the HPACK dynamic table
 * the operator would otherwise keep for each connection. A plugin connection
 * carries one stream for its whole life, and a connection's first header
 * block finds that table empty, so it saves nothing there; nghttp2 keeps it
 * per connection all the same, about 0.5 KiB of the operator's memory per
 * session (measured with packages/bench/src/session-heap.ts). Call after
 * every `bindAsync`; idempotent per HTTP/2 server.
 */
export function dropHeaderTables(server: Server): void {
  for (const http2Server of newHttp2Servers(server, emptied))
    http2Server.updateSettings({ headerTableSize: 0 });
}
