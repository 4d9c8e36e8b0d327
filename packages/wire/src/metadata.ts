import { Metadata, status as Status } from "@grpc/grpc-js";
import type { MetadataEntry } from "@operator-plugin-framework/proto";
import { PluginFrameworkError } from "./errors.js";

// Headers that belong to the transport, not to the call: grpc-js sets or strips
// them itself on a direct call, so the tunnel must not carry them either.
const RESERVED = new Set([
  "content-type",
  "te",
  "user-agent",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
]);

function isReserved(key: string): boolean {
  return (
    key.startsWith(":") || RESERVED.has(key) || (key.startsWith("grpc-") && key !== "grpc-status-details-bin")
  );
}

/** Converts grpc-js Metadata to wire entries, leaving out transport headers. */
export function metadataToEntries(metadata: Metadata | null | undefined): MetadataEntry[] {
  if (!metadata) return [];
  const entries: MetadataEntry[] = [];
  const map = metadata.getMap();
  for (const key of Object.keys(map)) {
    if (isReserved(key)) continue;
    for (const value of metadata.get(key)) {
      entries.push(
        typeof value === "string"
          ? { key, value, binaryValue: EMPTY }
          : { key, value: "", binaryValue: value as Buffer },
      );
    }
  }
  return entries;
}

/**
 * Converts wire entries from the peer to grpc-js Metadata. The peer is
 * untrusted: an invalid key or value is a protocol error, reported as
 * INVALID_ARGUMENT with the key in the message.
 */
export function entriesToMetadata(entries: readonly MetadataEntry[]): Metadata {
  const metadata = new Metadata();
  for (const entry of entries) {
    const key = entry.key.toLowerCase();
    if (isReserved(key)) continue;
    try {
      if (key.endsWith("-bin")) metadata.add(key, Buffer.from(entry.binaryValue));
      else metadata.add(key, entry.value);
    } catch (err) {
      throw new PluginFrameworkError(
        Status.INVALID_ARGUMENT,
        `invalid metadata entry ${JSON.stringify(entry.key.slice(0, 64))}: ${(err as Error).message}`,
      );
    }
  }
  return metadata;
}

const EMPTY = Buffer.alloc(0);
