import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { HOP_BY_HOP } from "./forward-stream.js";
import type { ProxyIdentity } from "./types.js";

/** Options of {@link upstreamHeaders}. */
export interface UpstreamHeaderOptions {
  /** The path sent upstream (the request path, joined to the upstream's path). */
  path: string;
  /** The client's address, appended to `x-forwarded-for` as Go's ReverseProxy does. */
  remoteAddress: string | undefined;
  /** The authenticated caller. */
  identity: ProxyIdentity;
  /** When set, the identity headers to write over the client's. */
  identityHeaders?: { user: string; groups: string; separator: string };
}

/**
 * The request headers the upstream sees. The `authorization` header is always
 * removed: Kubernetes' bearer-token authenticator, which the real proxy uses,
 * deletes it once the token is authenticated, so the upstream never sees the
 * caller's token. Identity headers are overwritten only when enabled; without
 * that, whatever the client sent passes through unchanged.
 */
export function upstreamHeaders(
  inbound: IncomingHttpHeaders,
  options: UpstreamHeaderOptions,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ":method": inbound[":method"],
    ":scheme": "http",
    ":path": options.path,
  };
  if (inbound[":authority"]) out[":authority"] = inbound[":authority"];
  for (const [name, value] of Object.entries(inbound)) {
    if (value === undefined || name.startsWith(":") || name === "authorization") continue;
    if (HOP_BY_HOP.has(name)) continue;
    // Go drops hop-by-hop "Te" but keeps "te: trailers", which gRPC needs.
    if (name === "te" && value !== "trailers") continue;
    out[name] = value;
  }
  if (options.remoteAddress) {
    const prior = inbound["x-forwarded-for"];
    out["x-forwarded-for"] = prior ? `${prior}, ${options.remoteAddress}` : options.remoteAddress;
  }
  const fields = options.identityHeaders;
  if (fields) {
    out[fields.user] = options.identity.user;
    out[fields.groups] = options.identity.groups.join(fields.separator);
  }
  return out;
}
