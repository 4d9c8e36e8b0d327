import { type V1Lease, type V1LeaseSpec, V1MicroTime } from "@kubernetes/client-node";

/** What the elector reads from a Lease, with malformed fields made safe. */
export interface LeaseRecord {
  /**
   * The holder: `""` when released or never held. A holder field of the wrong
   * type is kept as a non-empty placeholder, so the Lease counts as held.
   */
  holder: string;
  /** `leaseDurationSeconds` in ms, or undefined when missing or malformed. */
  durationMs: number | undefined;
  /** `leaseTransitions`, 0 when missing or malformed. */
  transitions: number;
  /** `acquireTime` as sent by the API (a string, whatever client-node's types say). */
  acquireTime: unknown;
  /** The spec as JSON: a change of it is a sign of life of the holder. */
  raw: string;
}

/** The placeholder for a holder that is set but not a string: held by someone we cannot name. */
export const unreadableHolder = "<unreadable holderIdentity>";

export function readLeaseRecord(lease: V1Lease): LeaseRecord {
  const spec = (lease.spec ?? {}) as Record<string, unknown>;
  const holder = spec.holderIdentity;
  const seconds = spec.leaseDurationSeconds;
  const transitions = spec.leaseTransitions;
  return {
    holder:
      holder === undefined || holder === null ? "" : typeof holder === "string" ? holder : unreadableHolder,
    durationMs:
      typeof seconds === "number" && Number.isInteger(seconds) && seconds > 0 ? seconds * 1000 : undefined,
    transitions:
      typeof transitions === "number" && Number.isInteger(transitions) && transitions >= 0 ? transitions : 0,
    acquireTime: spec.acquireTime,
    raw: JSON.stringify(spec),
  };
}

/** A spec naming `holder`, renewed now. */
export function heldSpec(options: {
  holder: string;
  leaseDurationMs: number;
  transitions: number;
  acquireTime: unknown;
}): V1LeaseSpec {
  const now = new V1MicroTime(Date.now());
  return {
    holderIdentity: options.holder,
    leaseDurationSeconds: Math.ceil(options.leaseDurationMs / 1000),
    // client-node hands MicroTime back as the wire string; it is written back unchanged.
    acquireTime: (options.acquireTime as Date | undefined) ?? now,
    renewTime: now,
    leaseTransitions: options.transitions,
  };
}

/**
 * The spec of a released Lease, as client-go writes it: no holder, so any
 * replica acquires it at its next try instead of waiting for it to expire.
 */
export function releasedSpec(transitions: number): V1LeaseSpec {
  const now = new V1MicroTime(Date.now());
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: transitions,
  };
}
