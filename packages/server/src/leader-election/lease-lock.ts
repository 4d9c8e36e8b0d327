import {
  CoordinationV1Api,
  type KubeConfig,
  Observable,
  type ObservableMiddleware,
  type V1Lease,
  type V1LeaseSpec,
} from "@kubernetes/client-node";

/** Reads and writes one Lease, with a signal per request and 409 turned into `undefined`. */
export interface LeaseLock {
  /** The Lease, or undefined when it does not exist. */
  get(signal: AbortSignal): Promise<V1Lease | undefined>;
  /** Creates it; undefined when another replica created it first. */
  create(spec: V1LeaseSpec, signal: AbortSignal): Promise<V1Lease | undefined>;
  /** Replaces `current` (its resourceVersion guards the write); undefined when it changed meanwhile. */
  update(current: V1Lease, spec: V1LeaseSpec, signal: AbortSignal): Promise<V1Lease | undefined>;
}

function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

// client-node 1.x takes a per-request AbortSignal only through a middleware.
function withSignal(signal: AbortSignal) {
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (context) => new Observable(Promise.resolve(context)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: "append" as const };
}

export function createLeaseLock(kubeConfig: KubeConfig, namespace: string, name: string): LeaseLock {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  return {
    async get(signal) {
      try {
        return await api.readNamespacedLease({ name, namespace }, withSignal(signal));
      } catch (err) {
        if (codeOf(err) === 404) return undefined;
        throw err;
      }
    },
    async create(spec, signal) {
      try {
        return await api.createNamespacedLease(
          {
            namespace,
            body: {
              apiVersion: "coordination.k8s.io/v1",
              kind: "Lease",
              metadata: { name, namespace },
              spec,
            },
          },
          withSignal(signal),
        );
      } catch (err) {
        if (codeOf(err) === 409) return undefined;
        throw err;
      }
    },
    async update(current, spec, signal) {
      try {
        return await api.replaceNamespacedLease(
          { name, namespace, body: { ...current, spec } },
          withSignal(signal),
        );
      } catch (err) {
        // Someone wrote since we read: re-read at the next try, never overwrite.
        if (codeOf(err) === 409) return undefined;
        throw err;
      }
    },
  };
}
