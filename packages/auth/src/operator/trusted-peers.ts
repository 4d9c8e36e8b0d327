import { BlockList, isIP } from "node:net";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** A peer as grpc-js reports it, parsed. */
export type PeerAddress = { kind: "local" } | { kind: "ip"; address: string; family: "ipv4" | "ipv6" };

/**
 * Parses grpc-js's peer string: "ip:port" (IPv6 unbracketed, "::1:5000",
 * or bracketed), a bare address, or "unknown", which is what a unix-socket
 * peer reports since it has no address. Anything else is `undefined`.
 */
export function parsePeer(peer: string): PeerAddress | undefined {
  if (peer === "unknown" || peer.startsWith("unix:")) return { kind: "local" };
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  // grpc-js appends the port whenever the socket has one (always, for TCP), so
  // strip it first: "::1:5000" is also a valid IPv6 address on its own.
  const candidates = bracketed ? [bracketed[1]!] : [peer.slice(0, Math.max(0, peer.lastIndexOf(":"))), peer];
  for (const candidate of candidates) {
    const version = isIP(candidate);
    if (version === 0) continue;
    // An IPv4-mapped IPv6 address is the IPv4 peer on a dual-stack socket.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(candidate);
    if (mapped) return { kind: "ip", address: mapped[1]!, family: "ipv4" };
    return { kind: "ip", address: candidate, family: version === 4 ? "ipv4" : "ipv6" };
  }
  return undefined;
}

/**
 * The peers whose identity headers are believed: loopback and unix-socket
 * peers always, plus `entries` (addresses or CIDR ranges such as
 * "10.0.0.5" or "10.0.0.0/24"). Throws INVALID_ARGUMENT for an entry that is
 * neither, naming it, so a typo cannot widen or silently narrow the trust.
 */
export function createTrustedPeers(option: string, entries: readonly string[]): (peer: string) => boolean {
  const list = new BlockList();
  list.addSubnet("127.0.0.0", 8, "ipv4");
  list.addAddress("::1", "ipv6");
  for (const entry of entries) {
    const [address = "", prefix, extra] = entry.trim().split("/");
    const version = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = version === 4 ? 32 : 128;
    if (
      version === 0 ||
      extra !== undefined ||
      (bits !== undefined && (!/^\d{1,3}$/.test(prefix!) || bits > max))
    ) {
      throw new PluginFrameworkError(
        status.INVALID_ARGUMENT,
        `${option}: ${JSON.stringify(entry)} is not an IP address or CIDR range (e.g. "10.0.0.5" or "10.0.0.0/24")`,
      );
    }
    const family = version === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, bits, family);
  }
  return (peer) => {
    const parsed = parsePeer(peer);
    if (parsed === undefined) return false;
    return parsed.kind === "local" || list.check(parsed.address, parsed.family);
  };
}
