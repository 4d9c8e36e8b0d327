import { status as Status } from "@grpc/grpc-js";

/**
 * The seed protocol's PluginError.code is text. Go plugins send
 * codes.Code.String() ("Unimplemented", "NotFound"), or free words such as
 * "RPC_ERROR". This maps any of those to a numeric code.
 */
export function parseSeedErrorCode(code: string): Status {
  const normalized = code.replace(/[^a-zA-Z]/g, "").toUpperCase();
  for (const [name, value] of Object.entries(Status)) {
    if (typeof value === "number" && name.replace(/_/g, "") === normalized) return value;
  }
  // "Canceled" is how Go spells it.
  if (normalized === "CANCELED") return Status.CANCELLED;
  if (normalized === "MARSHALERROR") return Status.INTERNAL;
  return Status.UNKNOWN;
}

/** The Go spelling of a code (codes.Code.String()), which seed operators log. */
export function goCodeName(code: Status): string {
  if (code === Status.CANCELLED) return "Canceled";
  if (code === Status.OK) return "OK";
  const name = Status[code];
  if (!name) return `Code(${code})`;
  return name
    .toLowerCase()
    .split("_")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/** Clamps a peer-sent status code into the valid gRPC range. */
export function sanitizeCode(code: number): Status {
  return Number.isInteger(code) && code >= 0 && code <= 16 ? (code as Status) : Status.UNKNOWN;
}
