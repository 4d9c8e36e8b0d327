import { ApiError, optionalObject, optionalString, optionalStringArray } from "./api-status.js";
import { canonicalJson } from "./canonical-json.js";
import type { FakeResourceType } from "./resource-types.js";

/** A registered type with its defaults applied. */
export interface ResourceEntry extends Required<FakeResourceType> {
  apiVersion: string;
  /** `plural.group`, the key of the type in storage and in events. */
  key: string;
}

export type Metadata = Record<string, unknown> & { name: string; namespace: string; resourceVersion: string };
export type StoredObject = Record<string, unknown> & { metadata: Metadata };

/** Metadata a client may change on update; the rest is kept by the server. */
export const mutableMetadata = ["labels", "annotations", "finalizers", "ownerReferences"] as const;

/** Metadata timestamps are RFC 3339 with whole seconds, as the API server writes them. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Everything but metadata (and status, when it is a subresource): what bumps `generation`. */
function specPart(object: Record<string, unknown>, entry: ResourceEntry): string {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = object;
  if (entry.statusSubresource) delete rest.status;
  return canonicalJson(rest);
}

export function conflict(entry: ResourceEntry, name: string): ApiError {
  return new ApiError(
    409,
    `Operation cannot be fulfilled on ${entry.key} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    "Conflict",
    { name, group: entry.group, kind: entry.plural },
  );
}

/**
 * The object an update (PUT or PATCH, main resource or `/status`) leads to,
 * as the CRD strategies compute it: concurrency check on `resourceVersion`,
 * status changed only through the subresource, server-owned metadata kept,
 * `generation` bumped on changes outside metadata and status, and no new
 * finalizer once deletion started.
 */
export function nextVersion(
  entry: ResourceEntry,
  existing: StoredObject,
  incoming: Record<string, unknown>,
  status: boolean,
  requireVersion: boolean,
): StoredObject {
  const metadata = optionalObject(incoming.metadata, "metadata") ?? {};
  const version = optionalString(metadata.resourceVersion, "metadata.resourceVersion");
  if ((version === undefined || version === "") && requireVersion) {
    throw new ApiError(
      422,
      `${entry.kind}.${entry.group} "${existing.metadata.name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`,
    );
  }
  if (version !== undefined && version !== "" && version !== existing.metadata.resourceVersion) {
    throw conflict(entry, existing.metadata.name);
  }
  let next: StoredObject;
  if (status) {
    // The status subresource changes status alone; spec and metadata edits are ignored.
    const { status: _old, ...rest } = existing;
    next =
      incoming.status === undefined
        ? { ...rest, metadata: existing.metadata }
        : { ...rest, metadata: existing.metadata, status: incoming.status };
  } else {
    const { metadata: _m, status: newStatus, ...rest } = incoming;
    next = { ...rest, apiVersion: entry.apiVersion, kind: entry.kind, metadata: { ...existing.metadata } };
    for (const field of mutableMetadata) {
      if (metadata[field] === undefined || metadata[field] === null) delete next.metadata[field];
      else next.metadata[field] = structuredClone(metadata[field]);
    }
    const keepStatus = entry.statusSubresource ? existing.status : newStatus;
    if (keepStatus === undefined) delete next.status;
    else next.status = keepStatus;
    checkFinalizers(entry, existing, next);
    if (specPart(next, entry) !== specPart(existing, entry)) {
      next.metadata.generation = Number(existing.metadata.generation) + 1;
    }
  }
  return next;
}

function checkFinalizers(entry: ResourceEntry, existing: StoredObject, next: StoredObject): void {
  const finalizers = optionalStringArray(next.metadata.finalizers, "metadata.finalizers") ?? [];
  const before = (existing.metadata.finalizers as string[] | undefined) ?? [];
  if (existing.metadata.deletionTimestamp !== undefined && finalizers.some((f) => !before.includes(f))) {
    throw new ApiError(
      422,
      `${entry.kind}.${entry.group} "${existing.metadata.name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted`,
    );
  }
}
