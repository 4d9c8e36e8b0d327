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

// The one message every refused target gets: what was given, and what to give instead.
function invalid(target: string, why: string): PluginFrameworkError {
  return new PluginFrameworkError(
    status.INVALID_ARGUMENT,
    `invalid target ${JSON.stringify(target)}: ${why}`,
  );
}
