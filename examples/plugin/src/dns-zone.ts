import { EventEmitter } from "node:events";
import { type DnsRecord, type RecordType, ZoneChange } from "@operator-plugin-framework/proto/example/dns";

/** What a zone reports to its watchers. */
export interface ZoneEvent {
  change: ZoneChange;
  record: DnsRecord;
}

/** The fields a caller sets on a record. */
export interface RecordFields {
  name: string;
  type: RecordType;
  value: string;
}

/** How many calls of each kind reached the zone: tests use these to count writes. */
export interface ZoneCalls {
  create: number;
  update: number;
  delete: number;
}

/**
 * One provider's DNS zone, in memory: what a real plugin would keep in
 * Route 53 or Cloud DNS. Record ids are `<prefix>-<n>`, so the provider that
 * made a record is visible in its id.
 */
export interface InMemoryZone {
  /** Creates a record, or returns (and updates) the one `owner` already has. */
  create(fields: RecordFields & { owner: string }): { record: DnsRecord; created: boolean };
  /** Replaces a record's fields; undefined when `id` does not exist. */
  update(id: string, fields: RecordFields): DnsRecord | undefined;
  /** Removes a record; false when `id` did not exist. */
  delete(id: string): boolean;
  /** Every record now, in creation order. */
  records(): DnsRecord[];
  /** Calls `listener` on every change until the returned function is called. */
  watch(listener: (event: ZoneEvent) => void): () => void;
  readonly calls: Readonly<ZoneCalls>;
}

export function createInMemoryZone(idPrefix: string): InMemoryZone {
  const byId = new Map<string, DnsRecord>();
  const byOwner = new Map<string, string>();
  const events = new EventEmitter().setMaxListeners(0);
  const calls: ZoneCalls = { create: 0, update: 0, delete: 0 };
  let nextId = 1;
  const emit = (change: ZoneChange, record: DnsRecord) =>
    events.emit("change", { change, record: { ...record } });
  const apply = (id: string, fields: RecordFields): DnsRecord => {
    const current = byId.get(id)!;
    const next = { ...current, ...fields, revision: current.revision + 1 };
    byId.set(id, next);
    emit(ZoneChange.ZONE_CHANGE_UPDATED, next);
    return { ...next };
  };

  return {
    create({ owner, ...fields }) {
      calls.create += 1;
      const existing = owner ? byOwner.get(owner) : undefined;
      if (existing !== undefined) return { record: apply(existing, fields), created: false };
      const record: DnsRecord = { id: `${idPrefix}-${nextId++}`, owner, revision: 1, ...fields };
      byId.set(record.id, record);
      if (owner) byOwner.set(owner, record.id);
      emit(ZoneChange.ZONE_CHANGE_CREATED, record);
      return { record: { ...record }, created: true };
    },
    update(id, fields) {
      calls.update += 1;
      return byId.has(id) ? apply(id, fields) : undefined;
    },
    delete(id) {
      calls.delete += 1;
      const record = byId.get(id);
      if (record === undefined) return false;
      byId.delete(id);
      if (record.owner) byOwner.delete(record.owner);
      emit(ZoneChange.ZONE_CHANGE_DELETED, record);
      return true;
    },
    records: () => [...byId.values()].map((record) => ({ ...record })),
    watch(listener) {
      events.on("change", listener);
      return () => events.off("change", listener);
    },
    calls,
  };
}
