// Shared by the dns-*.test.ts files: the fake API with the DNSRecord type,
// DNS provider plugins in this process (so a test can read their zones and
// count their calls), and waiting on DNSRecords through a watch, not a poll.
import { CustomObjectsApi, type KubeConfig, makeInformer } from "@kubernetes/client-node";
import { DnsProviderServiceService } from "@operator-plugin-framework/proto/example/dns";
import { quietLogger } from "@operator-plugin-framework/registry";
import { startTestPlugin } from "@operator-plugin-framework/testkit";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { type DNSRecord, dnsRecordResource } from "@operator-plugin-framework-examples/operator/dns-record";
import { createDnsProvider } from "@operator-plugin-framework-examples/plugin/dns-provider";
import { createInMemoryZone, type InMemoryZone } from "@operator-plugin-framework-examples/plugin/dns-zone";

export const namespace = "dns";
const { group, version, plural, kind } = dnsRecordResource;

/** The fake API serving DNSRecords, as if the CRD of examples/deploy/crd were installed. */
export async function startDnsApi(): Promise<FakeKubeApi> {
  const api = await startFakeKubeApi();
  api.resources.register({ group, version, plural, kind });
  return api;
}

/** A DNS provider plugin in this process, with the zone it writes to. */
export async function startDnsPlugin(name: string, targets: string[], zone = createInMemoryZone(name)) {
  const connection = await startTestPlugin({
    name,
    target: targets,
    services: [[DnsProviderServiceService, createDnsProvider(zone, quietLogger)]],
    logger: quietLogger,
  });
  return { zone, connection };
}

export type DnsPlugin = Awaited<ReturnType<typeof startDnsPlugin>> & { zone: InMemoryZone };

/** DNSRecord calls and waits, as a user with kubectl would see them. */
export function dnsRecords(kubeConfig: KubeConfig) {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group, version, plural, namespace };
  const informer = makeInformer<DNSRecord>(
    kubeConfig,
    `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
    () => custom.listNamespacedCustomObject(ref),
  );
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  for (const verb of ["add", "update", "delete"] as const) informer.on(verb, wake);
  informer.on("error", () => setTimeout(() => void informer.start(), 50));
  const started = informer.start();

  const get = async (name: string) => (await custom.getNamespacedCustomObject({ ...ref, name })) as DNSRecord;
  return {
    started,
    create: async (name: string, spec: Record<string, unknown>) =>
      (await custom.createNamespacedCustomObject({
        ...ref,
        body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
      })) as DNSRecord,
    get,
    /** Replaces the spec of `name`, starting from the watched copy and re-reading on a conflict. */
    async setSpec(name: string, spec: Record<string, unknown>): Promise<DNSRecord> {
      for (let current = informer.get(name, namespace) ?? (await get(name)); ; current = await get(name)) {
        try {
          return (await custom.replaceNamespacedCustomObject({
            ...ref,
            name,
            body: { ...current, spec: { ...current.spec, ...spec } },
          })) as DNSRecord;
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err;
        }
      }
    },
    delete: (name: string) => custom.deleteNamespacedCustomObject({ ...ref, name }),
    /** Resolves when every named record satisfies `check` (or is gone, for `gone`), per the watch. */
    waitFor(
      names: string[],
      check: (record: DNSRecord | undefined) => boolean,
      what: string,
      timeoutMs = 15_000,
    ) {
      return new Promise<void>((resolve, reject) => {
        const test = () => {
          if (!names.every((name) => check(informer.get(name, namespace)))) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          const late = names.filter((name) => !check(informer.get(name, namespace)));
          const sample = late
            .slice(0, 3)
            .map((name) => JSON.stringify(informer.get(name, namespace)?.status));
          reject(
            new Error(
              `${late.length} record(s) never became ${what}: ${late.slice(0, 5).join(", ")} ${sample}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(test);
        };
        waiters.add(test);
        test();
      });
    },
    cached: (name: string) => informer.get(name, namespace),
    close: () => informer.stop(),
  };
}

/** The Ready condition of a record. */
export const ready = (record: DNSRecord | undefined) =>
  record?.status?.conditions?.find((c) => c.type === "Ready");

/** Ready=True for the record's current generation. */
export const isReady = (record: DNSRecord | undefined) =>
  ready(record)?.status === "True" && ready(record)?.observedGeneration === record?.metadata?.generation;
