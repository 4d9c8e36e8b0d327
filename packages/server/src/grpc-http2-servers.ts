import type { Http2Server } from "node:http2";
import { type Server, status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * The HTTP/2 servers of a grpc-js server that `seen` has not seen yet, now
 * marked seen: call after every `bindAsync` and hook each one once.
 *
 * grpc-js keeps them in a private `http2Servers` map. The version is pinned
 * to a minor release and tests cover the hooks, so an upgrade that changes
 * it fails loudly, here, with what to do.
 */
export function newHttp2Servers(server: Server, seen: WeakSet<Http2Server>): Http2Server[] {
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(http2Servers instanceof Map)) {
    throw new PluginFrameworkError(
      status.INTERNAL,
      "this @grpc/grpc-js version hides its HTTP/2 servers, so repeated identity headers cannot be seen; " +
        "use the @grpc/grpc-js version the server package pins",
    );
  }
  const fresh: Http2Server[] = [];
  for (const http2Server of http2Servers.keys()) {
    if (seen.has(http2Server)) continue;
    seen.add(http2Server);
    fresh.push(http2Server);
  }
  return fresh;
}
