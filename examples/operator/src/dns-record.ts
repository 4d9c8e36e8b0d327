import type { KubernetesObject } from "@kubernetes/client-node";

/** The custom resource this operator reconciles: `dnsrecords.example.pluginframework.io`. */
export const dnsRecordResource = {
  group: "example.pluginframework.io",
  version: "v1alpha1",
  plural: "dnsrecords",
  kind: "DNSRecord",
} as const;

/** Held on every DNSRecord until its provider record is deleted. */
export const dnsRecordFinalizer = "example.pluginframework.io/provider-record";

export interface DNSRecordSpec {
  /** The plugin (DNS provider) that holds the record, e.g. "aws". */
  provider: string;
  /** Fully qualified DNS name, e.g. "www.example.com". */
  name: string;
  /** A, AAAA, CNAME or TXT. */
  type: string;
  value: string;
}

/** A condition as the Kubernetes API conventions define it (metav1.Condition). */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration: number;
  /** CamelCase, machine-readable. */
  reason: string;
  /** For humans: what happened and what to do. */
  message: string;
  /** RFC 3339; changes only when `status` changes. */
  lastTransitionTime: string;
}

export interface DNSRecordStatus {
  /** The generation the provider record was last written for. */
  observedGeneration?: number;
  /** The provider that holds `recordId`. */
  provider?: string;
  /** The provider's id of the record, saved so it is never created twice. */
  recordId?: string;
  conditions?: Condition[];
}

export interface DNSRecord extends KubernetesObject {
  spec?: Partial<DNSRecordSpec>;
  status?: DNSRecordStatus;
}

/** "namespace/name", the work queue's key. */
export function keyOf(record: KubernetesObject): string {
  return `${record.metadata?.namespace ?? ""}/${record.metadata?.name ?? ""}`;
}

const label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = /^(\*|[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9])?)$/i;
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv6 = /^[0-9a-f:]+$/i;

/**
 * The spec, checked; or why it cannot be reconciled. The CRD's OpenAPI schema
 * rejects most of this already, but an operator must not trust that: an older
 * CRD version or a bypassed schema still reaches it.
 */
export function checkSpec(spec: Partial<DNSRecordSpec> | undefined): DNSRecordSpec | { invalid: string } {
  const { provider, name, type, value } = spec ?? {};
  const missing = (["provider", "name", "type", "value"] as const).filter(
    (field) => typeof spec?.[field] !== "string" || spec[field] === "",
  );
  if (missing.length) return { invalid: `spec.${missing.join(", spec.")} must be set` };
  if (!label.test(provider!))
    return { invalid: `spec.provider "${provider}" is not a plugin name (a DNS-1123 label such as "aws")` };
  const labels = name!.replace(/\.$/, "").split(".");
  if (name!.length > 253 || labels.length < 2 || !labels.every((part) => dnsLabel.test(part)))
    return { invalid: `spec.name "${name}" is not a fully qualified DNS name such as "www.example.com"` };
  switch (type) {
    case "A":
      if (!ipv4.test(value!)) return { invalid: `spec.value "${value}" is not an IPv4 address (type A)` };
      break;
    case "AAAA":
      if (!ipv6.test(value!) || !value!.includes(":"))
        return { invalid: `spec.value "${value}" is not an IPv6 address (type AAAA)` };
      break;
    case "CNAME":
    case "TXT":
      break;
    default:
      return { invalid: `spec.type "${type}" is not one of A, AAAA, CNAME, TXT` };
  }
  return { provider: provider!, name: name!, type: type!, value: value! };
}
