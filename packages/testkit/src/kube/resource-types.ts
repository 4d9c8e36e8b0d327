/** A custom resource type served by the fake API, as a CRD would declare it. */
export interface FakeResourceType {
  /** The API group, e.g. "example.pluginframework.io". */
  group: string;
  /** The version, e.g. "v1alpha1". */
  version: string;
  /** The plural resource name used in paths and RBAC, e.g. "dnsrecords". */
  plural: string;
  /** The kind, e.g. "DNSRecord". */
  kind: string;
  /**
   * Whether the type has the `/status` subresource. With it, the main
   * resource ignores status changes and `/status` ignores everything else.
   * Default: true.
   */
  statusSubresource?: boolean;
}

/** The custom resources the fake API serves, changeable at run time. */
export interface FakeResourceStore {
  /**
   * Serves a namespaced custom resource type, like installing its CRD:
   * get, list, watch, create, update, patch (merge and JSON patch) and
   * delete, under `/apis/<group>/<version>/namespaces/<ns>/<plural>`, plus
   * list and watch across namespaces at `/apis/<group>/<version>/<plural>`.
   * Registering the same type again is a no-op.
   */
  register(type: FakeResourceType): void;
  /**
   * Forgets the watch history, so a watch from any resourceVersion older
   * than the current one is answered `410 Gone`, as after an etcd compaction.
   */
  compactHistory(): void;
  /** The current (latest) resourceVersion of the custom resources. */
  resourceVersion(): string;
}

/** Which requests a fault applies to. Absent fields match every request. */
export interface FakeFaultMatch {
  /** The resource, e.g. "leases" or a custom resource's plural. */
  resource?: string;
  /** The RBAC verb: get, list, watch, create, update, patch, delete. */
  verb?: string;
  /** The subresource, e.g. "status". Absent: any. */
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The authenticated caller's user name, to fault one client among several. */
  user?: string;
  /** How many requests the fault applies to. Default: 1. `Infinity` until cleared. */
  count?: number;
}

/** A fault in place. */
export interface FakeFaultHandle {
  /** Requests the fault has applied to so far. */
  readonly hits: number;
  /** Removes the fault; requests it holds hanging are dropped (their connections destroyed). */
  clear(): void;
}

/** Fault injection for tests of clients' failure handling. */
export interface FakeFaults {
  /** Answers the next matching requests with `httpStatus` (default 500) and a Status body. */
  failNext(match?: FakeFaultMatch & { httpStatus?: number }): FakeFaultHandle;
  /** Never answers the next matching requests, until the client gives up or the fault is cleared. */
  hangNext(match?: FakeFaultMatch): FakeFaultHandle;
  /**
   * Ends every open watch of `resource` (all when absent). `"end"` (default)
   * finishes the response cleanly, like the API server's watch timeout;
   * `"destroy"` cuts the connection. Returns how many watches were ended.
   */
  dropWatches(options?: { resource?: string; mode?: "end" | "destroy" }): number;
  /** Removes every fault, dropping the requests held hanging. */
  clear(): void;
}
