import { randomBytes, randomUUID } from "node:crypto";
import {
  ApiError,
  checkTypeMeta,
  optionalObject,
  optionalString,
  optionalStringArray,
} from "./api-status.js";
import { canonicalJson } from "./canonical-json.js";
import {
  conflict,
  mutableMetadata,
  nextVersion,
  type ResourceEntry,
  type StoredObject,
  timestamp,
} from "./object-update.js";
import type { FakeResourceType } from "./resource-types.js";

export type { ResourceEntry } from "./object-update.js";

import {
  createWatchHistory,
  type RecordedEvent,
  type WatchEvent,
  type WatchListener,
} from "./watch-history.js";

export interface ObjectStore {
  register(type: FakeResourceType): void;
  lookup(group: string, version: string, plural: string): ResourceEntry | undefined;
  get(entry: ResourceEntry, namespace: string, name: string): object;
  list(entry: ResourceEntry, namespace: string | undefined): object;
  create(entry: ResourceEntry, namespace: string, body: Record<string, unknown>): object;
  /** PUT. `status` for the subresource. The body must carry the resourceVersion it was read at. */
  update(
    entry: ResourceEntry,
    namespace: string,
    name: string,
    body: Record<string, unknown>,
    status: boolean,
  ): object;
  /** PATCH: `apply` turns the current object into the patched one. */
  patch(
    entry: ResourceEntry,
    namespace: string,
    name: string,
    apply: (current: Record<string, unknown>) => Record<string, unknown>,
    status: boolean,
  ): object;
  delete(entry: ResourceEntry, namespace: string, name: string, options: Record<string, unknown>): object;
  /** Subscribes from `resourceVersion` (replayed) or from now with synthetic ADDED events. Throws 410 when too old. */
  watch(
    entry: ResourceEntry,
    namespace: string | undefined,
    resourceVersion: string | undefined,
    listener: WatchListener,
  ): () => void;
  compactHistory(): void;
  resourceVersion(): string;
}

/**
 * In-memory custom resources with the API server's semantics for CRDs:
 * optimistic concurrency on `resourceVersion` (one counter for all types, as
 * etcd's), `generation` bumped on changes outside metadata and status, the
 * status subresource, finalizers with `deletionTimestamp`, and a bounded
 * history of events for watches to resume from.
 */
export function createObjectStore(options: { now: () => number; historySize: number }): ObjectStore {
  const types = new Map<string, ResourceEntry>();
  const objects = new Map<string, StoredObject>();
  const history = createWatchHistory(options.historySize);
  const objectKey = (entry: ResourceEntry, namespace: string, name: string) =>
    `${entry.key}/${namespace}/${name}`;

  function find(entry: ResourceEntry, namespace: string, name: string): StoredObject {
    const object = objects.get(objectKey(entry, namespace, name));
    if (object === undefined) {
      throw new ApiError(404, `${entry.key} "${name}" not found`, "NotFound", {
        name,
        group: entry.group,
        kind: entry.plural,
      });
    }
    return object;
  }

  function list(entry: ResourceEntry, namespace: string | undefined) {
    const items = [...objects.values()].filter(
      (o) =>
        o.kind === entry.kind &&
        o.apiVersion === entry.apiVersion &&
        (namespace === undefined || o.metadata.namespace === namespace),
    );
    return {
      apiVersion: entry.apiVersion,
      kind: `${entry.kind}List`,
      metadata: { resourceVersion: String(history.current()) },
      items,
    };
  }

  function commit(entry: ResourceEntry, type: WatchEvent["type"], object: StoredObject): StoredObject {
    const revision = history.next();
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
    const key = objectKey(entry, stored.metadata.namespace, stored.metadata.name);
    if (type === "DELETED") objects.delete(key);
    else objects.set(key, stored);
    history.append({ revision, type, key: entry.key, namespace: stored.metadata.namespace, object: stored });
    return stored;
  }

  /** Commits an update, unless it changes nothing (then not even the resourceVersion moves). */
  function replaceObject(
    entry: ResourceEntry,
    existing: StoredObject,
    incoming: Record<string, unknown>,
    status: boolean,
    requireVersion: boolean,
  ): object {
    const next = nextVersion(entry, existing, incoming, status, requireVersion);
    if (canonicalJson(next) === canonicalJson(existing)) return existing;
    // The last finalizer removed from an object being deleted lets it go.
    const finalizers = (next.metadata.finalizers as string[] | undefined) ?? [];
    if (next.metadata.deletionTimestamp !== undefined && finalizers.length === 0) {
      return commit(entry, "DELETED", next);
    }
    return commit(entry, "MODIFIED", next);
  }

  return {
    register(type) {
      const entry: ResourceEntry = {
        statusSubresource: true,
        ...type,
        apiVersion: `${type.group}/${type.version}`,
        key: `${type.plural}.${type.group}`,
      };
      types.set(`${type.group}/${type.version}/${type.plural}`, entry);
    },
    lookup: (group, version, plural) => types.get(`${group}/${version}/${plural}`),
    get: (entry, namespace, name) => find(entry, namespace, name),
    list: (entry, namespace) => list(entry, namespace),
    create(entry, namespace, body) {
      checkTypeMeta(body, entry.apiVersion, entry.kind);
      const metadata = optionalObject(body.metadata, "metadata") ?? {};
      const ns = optionalString(metadata.namespace, "metadata.namespace");
      if (ns !== undefined && ns !== "" && ns !== namespace) {
        throw new ApiError(
          400,
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      const generateName = optionalString(metadata.generateName, "metadata.generateName");
      let name = optionalString(metadata.name, "metadata.name");
      if ((name === undefined || name === "") && generateName)
        name = generateName + randomBytes(3).toString("hex").slice(0, 5);
      if (name === undefined || name === "") {
        throw new ApiError(
          422,
          `${entry.kind}.${entry.group} "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      }
      if (objects.has(objectKey(entry, namespace, name))) {
        throw new ApiError(409, `${entry.key} "${name}" already exists`, "AlreadyExists", {
          name,
          group: entry.group,
          kind: entry.plural,
        });
      }
      optionalStringArray(metadata.finalizers, "metadata.finalizers");
      const { metadata: _m, status, ...rest } = body;
      const object: StoredObject = {
        ...rest,
        apiVersion: entry.apiVersion,
        kind: entry.kind,
        metadata: {
          name,
          namespace,
          uid: randomUUID(),
          resourceVersion: "",
          generation: 1,
          creationTimestamp: timestamp(options.now()),
        },
        // With the status subresource, a create's status is dropped, as the CRD strategy does.
        ...(entry.statusSubresource || status === undefined ? {} : { status }),
      };
      if (generateName !== undefined) object.metadata.generateName = generateName;
      for (const field of mutableMetadata) {
        if (metadata[field] !== undefined && metadata[field] !== null)
          object.metadata[field] = structuredClone(metadata[field]);
      }
      return commit(entry, "ADDED", object);
    },
    update(entry, namespace, name, body, status) {
      checkTypeMeta(body, entry.apiVersion, entry.kind);
      const bodyName = optionalString(optionalObject(body.metadata, "metadata")?.name, "metadata.name");
      if (bodyName !== name) {
        throw new ApiError(
          400,
          `the name of the object (${bodyName ?? ""}) does not match the name on the URL (${name})`,
        );
      }
      return replaceObject(entry, find(entry, namespace, name), body, status, true);
    },
    patch(entry, namespace, name, apply, status) {
      const existing = find(entry, namespace, name);
      const patched = apply(structuredClone(existing));
      checkTypeMeta(patched, entry.apiVersion, entry.kind);
      return replaceObject(entry, existing, patched, status, false);
    },
    delete(entry, namespace, name, deleteOptions) {
      const existing = find(entry, namespace, name);
      const preconditions = optionalObject(deleteOptions.preconditions, "preconditions") ?? {};
      const uid = optionalString(preconditions.uid, "preconditions.uid");
      const version = optionalString(preconditions.resourceVersion, "preconditions.resourceVersion");
      if (
        (uid !== undefined && uid !== existing.metadata.uid) ||
        (version !== undefined && version !== existing.metadata.resourceVersion)
      ) {
        throw conflict(entry, name);
      }
      const finalizers = (existing.metadata.finalizers as string[] | undefined) ?? [];
      if (finalizers.length > 0) {
        if (existing.metadata.deletionTimestamp !== undefined) return existing;
        // Finalizers hold the object: it is only marked, and goes once they are all removed.
        return commit(entry, "MODIFIED", {
          ...existing,
          metadata: {
            ...existing.metadata,
            deletionTimestamp: timestamp(options.now()),
            deletionGracePeriodSeconds: 0,
            generation: Number(existing.metadata.generation) + 1,
          },
        });
      }
      const deleted = commit(entry, "DELETED", existing);
      return {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name, group: entry.group, kind: entry.plural, uid: deleted.metadata.uid },
      };
    },
    watch(entry, namespace, resourceVersion, listener) {
      const matches = (event: RecordedEvent) =>
        event.key === entry.key && (namespace === undefined || event.namespace === namespace);
      if (resourceVersion === undefined || resourceVersion === "" || resourceVersion === "0") {
        // No starting point: the current state first, as synthetic ADDED events.
        const current = list(entry, namespace).items;
        for (const object of current) listener({ type: "ADDED", object });
        return history.subscribe(history.current(), matches, listener);
      }
      return history.subscribe(Number(resourceVersion), matches, listener);
    },
    compactHistory: () => history.compact(),
    resourceVersion: () => String(history.current()),
  };
}
