import { randomUUID } from "node:crypto";
import { ApiError, checkTypeMeta, optionalObject, optionalString } from "./api-status.js";

const apiVersion = "coordination.k8s.io/v1";
const kind = "Lease";

interface StoredLease {
  metadata: Record<string, unknown> & { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

/** Result of a lease operation: the HTTP status and the object to answer with. */
export interface LeaseResult {
  httpStatus: number;
  body: object;
}

/** In-memory `coordination.k8s.io/v1` Leases with optimistic concurrency. */
export interface LeaseStore {
  get(namespace: string, name: string): LeaseResult;
  list(namespace: string): LeaseResult;
  create(namespace: string, body: Record<string, unknown>): LeaseResult;
  replace(namespace: string, name: string, body: Record<string, unknown>): LeaseResult;
  delete(namespace: string, name: string): LeaseResult;
}

function notFound(name: string): ApiError {
  return new ApiError(404, `leases.coordination.k8s.io "${name}" not found`, "NotFound", {
    name,
    group: "coordination.k8s.io",
    kind: "leases",
  });
}

function toObject(lease: StoredLease): object {
  return { apiVersion, kind, metadata: { ...lease.metadata }, spec: { ...lease.spec } };
}

// Leases carry only JSON-safe scalars; a spec of another type is a client bug the real API rejects.
function readSpec(body: Record<string, unknown>): Record<string, unknown> {
  return structuredClone(optionalObject(body.spec, "spec") ?? {});
}

/**
 * Creates the store. Semantics follow the API server's lease strategy:
 * create on an existing name is 409 AlreadyExists, a replace with a stale
 * `resourceVersion` is 409 Conflict, a replace without one is unconditional,
 * and a replace of a missing lease creates it (201).
 */
export function createLeaseStore(options: { now: () => number }): LeaseStore {
  const leases = new Map<string, StoredLease>();
  let revision = 1000;
  const key = (namespace: string, name: string) => `${namespace}/${name}`;

  function readName(body: Record<string, unknown>): {
    metadata: Record<string, unknown>;
    name: string | undefined;
    ns: string | undefined;
  } {
    checkTypeMeta(body, apiVersion, kind);
    const metadata = optionalObject(body.metadata, "metadata") ?? {};
    return {
      metadata,
      name: optionalString(metadata.name, "metadata.name"),
      ns: optionalString(metadata.namespace, "metadata.namespace"),
    };
  }

  function store(
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
    created?: StoredLease,
  ): StoredLease {
    revision += 1;
    const lease: StoredLease = {
      metadata: {
        name,
        namespace,
        uid: (created?.metadata.uid as string | undefined) ?? randomUUID(),
        resourceVersion: String(revision),
        creationTimestamp:
          (created?.metadata.creationTimestamp as string | undefined) ??
          new Date(Math.floor(options.now() / 1000) * 1000).toISOString().replace(".000Z", "Z"),
      },
      spec,
    };
    leases.set(key(namespace, name), lease);
    return lease;
  }

  function checkNamespace(ns: string | undefined, namespace: string): void {
    if (ns !== undefined && ns !== "" && ns !== namespace) {
      throw new ApiError(
        400,
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
  }

  return {
    get(namespace, name) {
      const lease = leases.get(key(namespace, name));
      if (lease === undefined) throw notFound(name);
      return { httpStatus: 200, body: toObject(lease) };
    },
    list(namespace) {
      const items = [...leases.values()]
        .filter((lease) => lease.metadata.namespace === namespace)
        .map(toObject);
      return {
        httpStatus: 200,
        body: { apiVersion, kind: "LeaseList", metadata: { resourceVersion: String(revision) }, items },
      };
    },
    create(namespace, body) {
      const { name, ns } = readName(body);
      checkNamespace(ns, namespace);
      if (name === undefined || name === "") {
        throw new ApiError(
          422,
          `Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      }
      if (leases.has(key(namespace, name))) {
        throw new ApiError(409, `leases.coordination.k8s.io "${name}" already exists`, "AlreadyExists", {
          name,
          group: "coordination.k8s.io",
          kind: "leases",
        });
      }
      return { httpStatus: 201, body: toObject(store(namespace, name, readSpec(body))) };
    },
    replace(namespace, name, body) {
      const { metadata, name: bodyName, ns } = readName(body);
      checkNamespace(ns, namespace);
      if (bodyName !== name) {
        throw new ApiError(
          400,
          `the name of the object (${bodyName ?? ""}) does not match the name on the URL (${name})`,
        );
      }
      const existing = leases.get(key(namespace, name));
      if (existing === undefined) {
        return { httpStatus: 201, body: toObject(store(namespace, name, readSpec(body))) };
      }
      const resourceVersion = optionalString(metadata.resourceVersion, "metadata.resourceVersion");
      if (
        resourceVersion !== undefined &&
        resourceVersion !== "" &&
        resourceVersion !== existing.metadata.resourceVersion
      ) {
        throw new ApiError(
          409,
          `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          "Conflict",
          { name, group: "coordination.k8s.io", kind: "leases" },
        );
      }
      return { httpStatus: 200, body: toObject(store(namespace, name, readSpec(body), existing)) };
    },
    delete(namespace, name) {
      const lease = leases.get(key(namespace, name));
      if (lease === undefined) throw notFound(name);
      leases.delete(key(namespace, name));
      return {
        httpStatus: 200,
        body: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: { name, group: "coordination.k8s.io", kind: "leases", uid: lease.metadata.uid },
        },
      };
    },
  };
}
