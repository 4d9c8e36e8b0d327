import { isIP } from "node:net";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** Options of {@link assertTokenTransportAllowed}. */
export interface TokenTransportOptions {
  /**
   * Where the token would go: a gRPC target (`host:port`, `dns:///host:port`,
   * `ipv4:1.2.3.4:5`, `unix:///path`) or a URL (`https://host:port`). Required.
   */
  target: string;
  /** Whether the connection is TLS. Required. */
  tls: boolean;
  /** Send the token over plaintext to a non-loopback host anyway. Default: `false`. */
  allowInsecureToken?: boolean;
}

/** True for 127.0.0.0/8, ::1 (and its IPv4-mapped form) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) {
    if (bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
    return mapped !== null && mapped[1]!.startsWith("127.");
  }
  return false;
}

/** The host a target names, or `undefined` for a unix socket. */
export function targetHost(target: string): string | undefined {
  if (/^unix(-abstract)?:/i.test(target)) return undefined;
  const grpcScheme = /^(dns|ipv4|ipv6):/i;
  if (!grpcScheme.test(target) && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    try {
      return new URL(target).hostname;
    } catch {
      return target;
    }
  }
  // gRPC name syntax: [scheme:][//authority/]endpoint[,endpoint], endpoint = host[:port].
  const endpoint = target
    .replace(grpcScheme, "")
    .replace(/^\/\/[^/]*\//, "")
    .replace(/^\/+/, "")
    .split(",")[0]!;
  if (endpoint.startsWith("[")) return endpoint.slice(1, endpoint.indexOf("]"));
  if (isIP(endpoint) === 6) return endpoint;
  const colon = endpoint.lastIndexOf(":");
  return colon === -1 ? endpoint : endpoint.slice(0, colon);
}

/**
 * Refuses to send a bearer token in clear text to another machine: a token on
 * the wire is a credential anyone on the path can replay. Loopback and unix
 * sockets never leave the host, so they are allowed without TLS (that is the
 * hop from kube-rbac-proxy to the operator).
 *
 * @throws PluginFrameworkError FAILED_PRECONDITION when refused.
 */
export function assertTokenTransportAllowed(options: TokenTransportOptions): void {
  if (options.tls || options.allowInsecureToken === true) return;
  const host = targetHost(options.target);
  if (host === undefined || isLoopbackHost(host)) return;
  throw new PluginFrameworkError(
    status.FAILED_PRECONDITION,
    `refusing to send a bearer token over plaintext to ${JSON.stringify(host)}: enable TLS to the operator ` +
      "(or kube-rbac-proxy), or set allowInsecureToken: true if the network is trusted",
  );
}
