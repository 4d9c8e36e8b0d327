import { CustomObjectsApi, type KubeConfig, type KubernetesListObject } from "@kubernetes/client-node";
import { type DNSRecord, dnsRecordResource } from "./dns-record.js";

/**
 * The DNSRecord calls the operator makes. Writes are PUTs carrying the
 * object's resourceVersion, so a write based on a stale read fails with 409
 * instead of overwriting someone else's change.
 */
export interface DnsRecordApi {
  /** The record now, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<DNSRecord | undefined>;
  list(namespace: string): Promise<KubernetesListObject<DNSRecord>>;
  /** Replaces metadata and spec (status is ignored by the API server). */
  replace(record: DNSRecord): Promise<DNSRecord>;
  /** Replaces the status through the status subresource. */
  replaceStatus(record: DNSRecord): Promise<DNSRecord>;
}

export function createDnsRecordApi(kubeConfig: KubeConfig): DnsRecordApi {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = dnsRecordResource;
  const at = (record: DNSRecord) => ({
    group,
    version,
    plural,
    namespace: record.metadata!.namespace!,
    name: record.metadata!.name!,
    body: record,
  });
  return {
    async get(namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({
          group,
          version,
          plural,
          namespace,
          name,
        })) as DNSRecord;
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    },
    list: async (namespace) =>
      (await api.listNamespacedCustomObject({
        group,
        version,
        plural,
        namespace,
      })) as KubernetesListObject<DNSRecord>,
    replace: async (record) => (await api.replaceNamespacedCustomObject(at(record))) as DNSRecord,
    replaceStatus: async (record) => (await api.replaceNamespacedCustomObjectStatus(at(record))) as DNSRecord,
  };
}

/** The HTTP status of a failed Kubernetes API call, if it has one. */
export function httpStatusOf(err: unknown): number | undefined {
  const code =
    (err as { code?: unknown; statusCode?: unknown })?.code ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" && code >= 100 && code < 600 ? code : undefined;
}
