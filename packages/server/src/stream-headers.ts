import type { Http2Server, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Metadata, Server } from "@grpc/grpc-js";
import { newHttp2Servers } from "./grpc-http2-servers.js";

/**
 * The request headers an authenticator sees: every value of every header,
 * lower-case names, binary (`-bin`) values in base64.
 */
export function authHeaders(metadata: Metadata): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(metadata.toJSON())) {
    headers[name] = values.map((value) => (typeof value === "string" ? value : value.toString("base64")));
  }
  return headers;
}

const patched = new WeakSet<Http2Server>();

/**
 * Makes a header field that arrives more than once reach the call's metadata
 * as several values. Node's HTTP/2 layer joins repeated fields into one
 * string ("alice, mallory"), which would hide a second `x-remote-user` from
 * the authenticator. Node passes the fields as received to `stream`
 * listeners (`rawHeaders`); a listener placed before grpc-js's replaces each
 * joined string with the list of its values, which grpc-js adds one by one.
 *
 * The HTTP/2 servers come from grpc-js's private map (see newHttp2Servers).
 * Call after every `bindAsync`; it is idempotent.
 */
export function keepRepeatedHeaders(server: Server): void {
  for (const http2Server of newHttp2Servers(server, patched)) {
    http2Server.prependListener(
      "stream",
      (_stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: unknown) =>
        splitRepeated(headers, rawHeaders),
    );
  }
}

/** Replaces each header Node joined from repeated fields with the list of their values. */
export function splitRepeated(headers: IncomingHttpHeaders, rawHeaders: unknown): void {
  if (!Array.isArray(rawHeaders)) return;
  const seen = new Set<string>();
  const repeated = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    if (name.startsWith(":")) continue;
    if (seen.has(name)) repeated.set(name, []);
    seen.add(name);
  }
  if (repeated.size === 0) return;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    repeated.get(String(rawHeaders[i]).toLowerCase())?.push(String(rawHeaders[i + 1]));
  }
  for (const [name, values] of repeated) headers[name] = values;
}
