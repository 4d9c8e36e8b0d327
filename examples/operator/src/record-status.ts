import type { Condition, DNSRecord, DNSRecordStatus } from "./dns-record.js";

/** Why a DNSRecord is, or is not, Ready: the condition's `reason`. */
export type ReadyReason =
  | "Reconciled"
  | "InvalidSpec"
  | "PluginUnavailable"
  | "ProviderChanged"
  | "ProviderRejected"
  | "ProviderError"
  | "Deleting";

/** The status to write: the Ready condition, and the provider record when one exists. */
export interface ReadyState {
  ready: boolean;
  reason: ReadyReason;
  message: string;
  /** The provider record; kept from the current status when omitted. */
  record?: { provider: string; recordId: string; generation: number };
}

/**
 * The status `record` should have for `state`. `lastTransitionTime` moves only
 * when the condition's status flips, as the API conventions require.
 */
export function nextStatus(record: DNSRecord, state: ReadyState, now: Date = new Date()): DNSRecordStatus {
  const current = record.status ?? {};
  const previous = current.conditions?.find((c) => c.type === "Ready");
  const status = state.ready ? "True" : "False";
  const ready: Condition = {
    type: "Ready",
    status,
    observedGeneration: record.metadata?.generation ?? 0,
    reason: state.reason,
    message: state.message,
    lastTransitionTime:
      previous?.status === status ? previous.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, "Z"),
  };
  const others = (current.conditions ?? []).filter((c) => c.type !== "Ready");
  return {
    ...current,
    ...(state.record
      ? {
          provider: state.record.provider,
          recordId: state.record.recordId,
          observedGeneration: state.record.generation,
        }
      : {}),
    conditions: [...others, ready],
  };
}

/** True when writing `next` would change nothing a reader cares about. */
export function sameStatus(current: DNSRecordStatus | undefined, next: DNSRecordStatus): boolean {
  return JSON.stringify(normalize(current ?? {})) === JSON.stringify(normalize(next));
}

function normalize({ observedGeneration, provider, recordId, conditions }: DNSRecordStatus) {
  return {
    observedGeneration,
    provider,
    recordId,
    conditions: (conditions ?? []).map(({ type, status, observedGeneration, reason, message }) => ({
      type,
      status,
      observedGeneration,
      reason,
      message,
    })),
  };
}

/** The Ready condition of `record`, if it has one. */
export function readyCondition(record: DNSRecord): Condition | undefined {
  return record.status?.conditions?.find((c) => c.type === "Ready");
}
