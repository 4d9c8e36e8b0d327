import { CustomObjectsApi, type KubeConfig, makeInformer } from "@kubernetes/client-node";
import {
  type Condition,
  type DNSRecord,
  type DNSRecordSpec,
  dnsRecordResource,
} from "@operator-plugin-framework-examples/operator/dns-record";

/**
 * DNSRecords as a user with kubectl sees them: create, edit, delete, and
 * wait (on a watch, not a poll) until one looks some way.
 */
export interface RecordClient {
  create(name: string, spec: DNSRecordSpec): Promise<void>;
  setValue(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Resolves with the record once `check` holds (undefined: it is gone); rejects after `timeoutMs`. */
  waitFor(
    name: string,
    what: string,
    check: (record: DNSRecord | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<DNSRecord | undefined>;
  close(): Promise<void>;
}

export async function watchRecords(kubeConfig: KubeConfig, namespace: string): Promise<RecordClient> {
  const { group, version, plural, kind } = dnsRecordResource;
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group, version, plural, namespace };
  const informer = makeInformer<DNSRecord>(
    kubeConfig,
    `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
    () => custom.listNamespacedCustomObject(ref),
  );
  const waiters = new Set<() => void>();
  for (const verb of ["add", "update", "delete"] as const) {
    informer.on(verb, () => {
      for (const waiter of waiters) waiter();
    });
  }
  await informer.start();

  return {
    async create(name, spec) {
      await custom.createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
      });
    },
    async setValue(name, value) {
      const current = (await custom.getNamespacedCustomObject({ ...ref, name })) as DNSRecord;
      await custom.replaceNamespacedCustomObject({
        ...ref,
        name,
        body: { ...current, spec: { ...current.spec, value } },
      });
    },
    async delete(name) {
      await custom.deleteNamespacedCustomObject({ ...ref, name });
    },
    waitFor(name, what, check, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const test = () => {
          const record = informer.get(name, namespace);
          if (!check(record)) return;
          stop();
          resolve(record);
        };
        const timer = setTimeout(() => {
          stop();
          const status = JSON.stringify(informer.get(name, namespace)?.status);
          reject(
            new Error(`DNSRecord ${name} did not become ${what} within ${timeoutMs} ms; status: ${status}`),
          );
        }, timeoutMs);
        const stop = () => {
          clearTimeout(timer);
          waiters.delete(test);
        };
        waiters.add(test);
        test();
      });
    },
    close: () => informer.stop(),
  };
}

/** The Ready condition of a record. */
export function ready(record: DNSRecord | undefined): Condition | undefined {
  return record?.status?.conditions?.find((c) => c.type === "Ready");
}

/** Ready=True for the record's current generation. */
export function isReady(record: DNSRecord | undefined): boolean {
  const condition = ready(record);
  return condition?.status === "True" && condition.observedGeneration === record?.metadata?.generation;
}

/** One line, like `kubectl get dnsrecord` with the Ready condition spelled out. */
export function describe(record: DNSRecord | undefined): string {
  const condition = ready(record);
  if (!condition) return "no Ready condition yet";
  return (
    `Ready=${condition.status} reason=${condition.reason} generation=${record?.metadata?.generation} ` +
    `observedGeneration=${condition.observedGeneration}: ${condition.message}`
  );
}
