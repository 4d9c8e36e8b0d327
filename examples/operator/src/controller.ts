import { type Informer, type KubeConfig, makeInformer, type ObjectCache } from "@kubernetes/client-node";
import type { Logger, PluginRegistry } from "@operator-plugin-framework/registry";
import { type DNSRecord, dnsRecordResource, keyOf } from "./dns-record.js";
import { createReconciler } from "./reconciler.js";
import { createDnsRecordApi } from "./record-api.js";
import { createWorkQueue } from "./work-queue.js";

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** The namespace whose DNSRecords this controller reconciles. */
  namespace: string;
  registry: PluginRegistry;
  logger: Logger;
  /** Keys reconciled at once (never the same key twice). Default 4. */
  workers?: number;
  /** Deadline of each call to a plugin. Default 5000 ms. */
  callTimeoutMs?: number;
  /** First delay before listing again after a watch error; doubles up to 5 s. Default 100 ms. */
  watchRetryMs?: number;
}

/**
 * Reconciles DNSRecords until `signal` aborts, then resolves once every worker
 * has stopped. Meant to run only while this replica leads: pass it the signal
 * of the leader elector's `onStartedLeading`.
 *
 * An informer feeds keys to a work queue, workers reconcile them, and a
 * record waiting for a plugin is requeued by the registry's `registered`
 * event for that plugin, not by polling.
 */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { kubeConfig, namespace, registry, logger } = options;
  const { group, version, plural } = dnsRecordResource;
  const path = `/apis/${group}/${version}/namespaces/${namespace}/${plural}`;
  const api = createDnsRecordApi(kubeConfig);
  let informer: (Informer<DNSRecord> & ObjectCache<DNSRecord>) | undefined;
  const reconcile = createReconciler({
    api,
    registry,
    logger,
    callTimeoutMs: options.callTimeoutMs,
    cached: (namespace, name) => informer?.get(name, namespace),
  });
  const queue = createWorkQueue();
  /** Keys waiting for a plugin, by key: the plugin's name. */
  const waiting = new Map<string, string>();
  const watchRetryMs = options.watchRetryMs ?? 100;
  let restartTimer: NodeJS.Timeout | undefined;
  let watchFailures = 0;

  const enqueue = (record: DNSRecord) => {
    watchFailures = 0;
    queue.add(keyOf(record));
  };

  // A fresh informer after any error lists everything again, so nothing missed
  // while the watch was down stays missed. (The informer itself relists on 410.)
  const startInformer = () => {
    const current = makeInformer<DNSRecord>(kubeConfig, path, () => api.list(namespace));
    informer = current;
    for (const verb of ["add", "update", "delete"] as const) current.on(verb, enqueue);
    const onError = (err: unknown) => {
      if (signal.aborted || informer !== current) return;
      informer = undefined;
      void current.stop();
      const delayMs = Math.min(watchRetryMs * 2 ** watchFailures++, 5_000);
      logger.warn({ error: String(err), retryInMs: delayMs }, "controller: watch failed; listing again");
      restartTimer = setTimeout(startInformer, delayMs);
    };
    current.on("error", onError);
    current.start().catch(onError);
  };

  const offRegistered = registry.on("registered", ({ session }) => {
    for (const [key, provider] of waiting) {
      if (provider === session.name) {
        waiting.delete(key);
        queue.add(key);
      }
    }
  });

  async function work(): Promise<void> {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      try {
        const outcome = await reconcile(key, signal);
        if (outcome.result === "retry") {
          logger.debug({ key, why: outcome.why }, "controller: retrying");
          queue.addRateLimited(key);
        } else {
          queue.forget(key);
          waiting.delete(key);
          if (outcome.result === "wait-for-plugin") {
            waiting.set(key, outcome.provider);
            // It may have registered while we were writing the status.
            if (registry.has(outcome.provider)) queue.add(key);
          }
        }
      } catch (err) {
        if (!signal.aborted) {
          logger.warn(
            { key, error: String(err), failures: queue.failures(key) + 1 },
            "controller: reconcile failed",
          );
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  }

  logger.info({ namespace }, "controller: started");
  startInformer();
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      clearTimeout(restartTimer);
      void informer?.stop();
      offRegistered();
      queue.shutDown();
      resolve();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
  await Promise.all([stopped, ...Array.from({ length: options.workers ?? 4 }, work)]);
  logger.info({ namespace }, "controller: stopped");
}
