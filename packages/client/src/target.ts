import { isIP } from "node:net";
import { status } from "@grpc/grpc-js";
import { isLoopbackHost } from "@operator-plugin-framework/auth/token";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** A dial target, parsed. */
export interface ParsedTarget {
  /** True for `dns+https://` / `dns+http://`: one session per resolved address. */
  resolveAll: boolean;
  /** Port, for resolved targets. */
  port: string;
  /** What grpc-js dials: "host:port" or "unix:///path". */
  grpcTarget: string;
  tls: boolean;
  /** Host name or address; the socket path for unix targets. */
  host: string;
  /** True for loopback addresses, localhost and unix sockets. */
  local: boolean;
}

/**
 * Parses `https://host:port` (TLS), `http://host:port` (plaintext) or
 * `unix:///path` (plaintext). A `dns+` prefix (`dns+https://operator-headless:8443`)
 * asks for one session per address the name resolves to, as for the replicas
 * behind a headless Service. Throws INVALID_ARGUMENT for anything else.
 */
export function parseTarget(input: string): ParsedTarget {
  let target = input;
  if (target.startsWith("unix://")) {
    const path = target.slice("unix://".length);
    if (!path.startsWith("/")) throw invalid(target, "a unix target needs an absolute path");
    return { grpcTarget: `unix://${path}`, tls: false, host: path, local: true, resolveAll: false, port: "" };
  }
  const resolveAll = target.startsWith("dns+");
  if (resolveAll) target = target.slice("dns+".length);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw invalid(target, 'use "https://host:port", "http://host:port" or "unix:///path"');
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw invalid(target, `unsupported scheme ${url.protocol}`);
  if (url.pathname !== "/" && url.pathname !== "") throw invalid(target, "a target has no path");
  const tls = url.protocol === "https:";
  const port = url.port || (tls ? "443" : "80");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const hostPart = isIP(host) === 6 ? `[${host}]` : host;
  return { grpcTarget: `${hostPart}:${port}`, tls, host, local: isLoopbackHost(host), resolveAll, port };
}

/**
 * What grpc-js is asked to dial for `grpcTarget`: an IP address literal goes
 * to grpc-js's IP resolver (`ipv4:` / `ipv6:`), which hands the address to
 * the channel as it is. Its default DNS resolver would build a `dns.Resolver`,
 * a backoff and a re-resolution timer per channel only to find that the host
 * is an address: a cost paid again on every reconnect, and by every plugin
 * of a process that holds many. The authority sent is the same ("host:port").
 */
export function dialTarget(grpcTarget: string): string {
  if (grpcTarget.startsWith("unix:")) return grpcTarget;
  const colon = grpcTarget.lastIndexOf(":");
  const host = grpcTarget.slice(0, colon).replace(/^\[|\]$/g, "");
  switch (isIP(host)) {
    case 4:
      return `ipv4:${grpcTarget}`;
    case 6:
      return `ipv6:${grpcTarget}`;
    default:
      return grpcTarget;
  }
}

// The one message every refused target gets: what was given, and what to give instead.
function invalid(target: string, why: string): PluginFrameworkError {
  return new PluginFrameworkError(
    status.INVALID_ARGUMENT,
    `invalid target ${JSON.stringify(target)}: ${why}`,
  );
}
