import { type ClientHttp2Session, connect } from "node:http2";
import { connect as netConnect } from "node:net";

/** How to reach the upstream over plaintext HTTP/2 with prior knowledge (h2c). */
export interface UpstreamTarget {
  /** Opens a new h2c session. */
  connect(): ClientHttp2Session;
  /** Joins the upstream URL's path in front of the request path, as Go's NewSingleHostReverseProxy does. */
  rewritePath(requestPath: string): string;
}

/** Parses `http://host:port[/prefix]` or `unix:///path/to.sock`. */
export function parseUpstream(upstream: string): UpstreamTarget {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw new Error(
      `invalid upstream ${JSON.stringify(upstream)}: expected http://HOST:PORT or unix:///PATH`,
    );
  }
  if (url.protocol === "unix:") {
    const socketPath = decodeURIComponent(url.pathname);
    if (!socketPath || socketPath === "/") throw new Error(`invalid upstream ${upstream}: no socket path`);
    return {
      connect: () =>
        connect("http://localhost", {
          createConnection: () => netConnect(socketPath),
          maxSessionMemory: Number.MAX_SAFE_INTEGER,
        }),
      rewritePath: (path) => path,
    };
  }
  if (url.protocol !== "http:") {
    throw new Error(
      `invalid upstream ${upstream}: only plaintext http:// (h2c) and unix:// upstreams are supported; ` +
        "kube-rbac-proxy loses HTTP/2 with a TLS upstream",
    );
  }
  const origin = url.origin;
  const prefix = url.pathname.replace(/\/+$/, "");
  return {
    connect: () => connect(origin, { maxSessionMemory: Number.MAX_SAFE_INTEGER }),
    rewritePath: (path) => (prefix && path.startsWith("/") ? prefix + path : path),
  };
}
