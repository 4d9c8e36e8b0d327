import { status as grpcStatus } from "@grpc/grpc-js";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { DnsProviderServiceService } from "@operator-plugin-framework/proto/example/dns";
import { type Logger, PluginFrameworkError, type PluginRegistry } from "@operator-plugin-framework/registry";
import { checkSpec, type DNSRecord, type DNSRecordSpec, dnsRecordFinalizer, keyOf } from "./dns-record.js";
import { type DnsRecordApi, httpStatusOf } from "./record-api.js";
import { nextStatus, type ReadyState, readyCondition, sameStatus } from "./record-status.js";
import { recordTypes } from "./record-types.js";

/** What the controller does with a key after one reconcile. */
export type ReconcileOutcome =
  /** Nothing left to do until the object changes: forget the key's backoff. */
  | { result: "done" }
  /** Try again after the key's backoff. */
  | { result: "retry"; why: string }
  /** Nothing to do until plugin `provider` registers; the registry's event requeues the key. */
  | { result: "wait-for-plugin"; provider: string };

export interface ReconcilerOptions {
  api: DnsRecordApi;
  registry: PluginRegistry;
  logger: Logger;
  /** Deadline of each call to a plugin. Default 5000 ms. */
  callTimeoutMs?: number;
  /**
   * The informer's copy of a record, if any. When it shows the record done,
   * the reconcile ends without reading the API: a stale copy can only be older,
   * and the newer version's event queues the key again. Default: always read.
   */
  cached?: (namespace: string, name: string) => DNSRecord | undefined;
}

/** Reconciles the DNSRecord `key` ("namespace/name"); aborting `signal` cancels its plugin calls. */
export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileOutcome>;

const done: ReconcileOutcome = { result: "done" };
const tracer = trace.getTracer("example-operator");

/**
 * The reconcile function: makes the provider's record match a DNSRecord's
 * spec, and says so in its status. It always reads the object from the API
 * (not the informer's cache), so it never acts on a record id it has not seen
 * saved; and every write carries the resourceVersion it read.
 */
export function createReconciler(options: ReconcilerOptions): Reconcile {
  const { api, registry, logger } = options;
  const timeoutMs = options.callTimeoutMs ?? 5_000;

  /** Writes the status for `state` unless it is already there (then returns `record` itself); a 409 means retry. */
  async function report(record: DNSRecord, state: ReadyState): Promise<DNSRecord> {
    const status = nextStatus(record, state);
    if (sameStatus(record.status, status)) return record;
    return api.replaceStatus({ ...record, status });
  }

  async function pluginUnavailable(record: DNSRecord, provider: string, doing: string) {
    const registered = registry.names();
    const message =
      `plugin "${provider}" is not registered (registered: ${registered.join(", ") || "none"}); ` +
      `${doing} as soon as it registers`;
    const reported = await report(record, { ready: false, reason: "PluginUnavailable", message });
    if (reported !== record) logger.info({ key: keyOf(record), provider }, "reconcile: waiting for plugin");
    return { result: "wait-for-plugin", provider } as const;
  }

  async function finalize(record: DNSRecord, signal: AbortSignal): Promise<ReconcileOutcome> {
    const finalizers = record.metadata?.finalizers ?? [];
    if (!finalizers.includes(dnsRecordFinalizer)) return done;
    const { provider, recordId } = record.status ?? {};
    if (provider && recordId) {
      if (!registry.has(provider)) return pluginUnavailable(record, provider, "the record is deleted");
      const dns = registry.get(provider).service(DnsProviderServiceService);
      const { deleted } = await dns.deleteRecord({ id: recordId }, { timeoutMs, signal });
      logger.info({ key: keyOf(record), provider, recordId, deleted }, "reconcile: provider record deleted");
    }
    const metadata = { ...record.metadata, finalizers: finalizers.filter((f) => f !== dnsRecordFinalizer) };
    await api.replace({ ...record, metadata });
    logger.info({ key: keyOf(record) }, "reconcile: finalizer removed");
    return done;
  }

  /** Creates or updates the provider record; returns its id. */
  async function apply(record: DNSRecord, spec: DNSRecordSpec, signal: AbortSignal): Promise<string> {
    const dns = registry.get(spec.provider).service(DnsProviderServiceService);
    const fields = { name: spec.name, type: recordTypes[spec.type]!, value: spec.value };
    const known = record.status?.recordId;
    if (known) {
      try {
        await dns.updateRecord({ id: known, ...fields }, { timeoutMs, signal });
        return known;
      } catch (err) {
        // Gone from the provider (deleted by hand): make it again.
        if (PluginFrameworkError.from(err).code !== grpcStatus.NOT_FOUND) throw err;
      }
    }
    // `owner` makes the create idempotent: after a crash between this call and
    // the status write, the next create returns the same record.
    const { record: made } = await dns.createRecord(
      { ...fields, owner: record.metadata!.uid! },
      { timeoutMs, signal },
    );
    return made!.id;
  }

  async function reconcileRecord(record: DNSRecord, signal: AbortSignal): Promise<ReconcileOutcome> {
    if (record.metadata?.deletionTimestamp) return finalize(record, signal);
    if (!record.metadata?.finalizers?.includes(dnsRecordFinalizer)) {
      // Before any provider record exists, so none can outlive the object.
      const finalizers = [...(record.metadata?.finalizers ?? []), dnsRecordFinalizer];
      record = await api.replace({ ...record, metadata: { ...record.metadata, finalizers } });
    }
    const spec = checkSpec(record.spec);
    if ("invalid" in spec) {
      await report(record, { ready: false, reason: "InvalidSpec", message: `${spec.invalid}; fix the spec` });
      logger.warn({ key: keyOf(record), why: spec.invalid }, "reconcile: invalid spec");
      return done;
    }
    const saved = record.status ?? {};
    if (saved.recordId && saved.provider && saved.provider !== spec.provider) {
      const message =
        `spec.provider changed from "${saved.provider}" to "${spec.provider}", but record ${saved.recordId} ` +
        `lives in "${saved.provider}"; restore spec.provider, or delete this DNSRecord and create a new one`;
      await report(record, { ready: false, reason: "ProviderChanged", message });
      return done;
    }
    if (isDone(record)) return done;
    if (!registry.has(spec.provider)) return pluginUnavailable(record, spec.provider, "the record is made");

    const generation = record.metadata?.generation ?? 0;
    let recordId: string;
    try {
      recordId = await apply(record, spec, signal);
    } catch (err) {
      const error = PluginFrameworkError.from(err);
      if (!registry.has(spec.provider)) return pluginUnavailable(record, spec.provider, "the record is made");
      const rejected =
        error.code === grpcStatus.INVALID_ARGUMENT || error.code === grpcStatus.FAILED_PRECONDITION;
      const message = `${spec.provider} answered ${grpcStatus[error.code]}: ${error.details}`;
      await report(record, {
        ready: false,
        reason: rejected ? "ProviderRejected" : "ProviderError",
        message: rejected ? `${message}; fix the spec` : `${message}; retrying`,
      });
      // A rejection stays one until the spec changes; anything else may pass.
      return rejected ? done : { result: "retry", why: error.message };
    }
    const message = `${spec.type} ${spec.name} → ${spec.value} in ${spec.provider} (record ${recordId})`;
    await report(record, {
      ready: true,
      reason: "Reconciled",
      message,
      record: { provider: spec.provider, recordId, generation },
    });
    logger.info({ key: keyOf(record), provider: spec.provider, recordId, generation }, "reconcile: ready");
    return done;
  }

  async function reconcile(key: string, signal: AbortSignal): Promise<ReconcileOutcome> {
    const [namespace, name] = key.split("/") as [string, string];
    const cached = options.cached?.(namespace, name);
    if (cached && isDone(cached)) return done;
    const record = await api.get(namespace, name);
    if (!record) return done;
    try {
      return await reconcileRecord(record, signal);
    } catch (err) {
      // Someone changed the object since we read it: read it again.
      if (httpStatusOf(err) === 409)
        return { result: "retry", why: "conflict: the object changed meanwhile" };
      throw err;
    }
  }

  // One span per reconcile, active while it runs, so the framework's span of
  // each plugin call is its child (a no-op unless a tracer provider is registered).
  return (key, signal) =>
    tracer.startActiveSpan(`reconcile DNSRecord ${key}`, async (span) => {
      try {
        return await reconcile(key, signal);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        throw err;
      } finally {
        span.end();
      }
    });
}

/** True when the provider record matches the spec's current generation and nothing is pending. */
function isDone(record: DNSRecord): boolean {
  const { metadata, spec, status } = record;
  return (
    !metadata?.deletionTimestamp &&
    (metadata?.finalizers ?? []).includes(dnsRecordFinalizer) &&
    !!status?.recordId &&
    status.provider === spec?.provider &&
    status.observedGeneration === metadata?.generation &&
    readyCondition(record)?.status === "True"
  );
}
