import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * The bounds on the labels a plugin announces at register. Labels live as
 * long as the session and appear in every lookup error, so they stay small.
 */
export const LABEL_LIMITS = {
  /** Labels per register. */
  maxLabels: 32,
  /** Bytes of all keys and values together, UTF-8. */
  maxBytes: 4096,
} as const;

// Kubernetes label syntax (apimachinery validation.IsQualifiedName and
// IsValidLabelValue): a name segment of at most 63 characters, alphanumeric
// at both ends, with '-', '_' and '.' inside; keys may carry a DNS-1123
// subdomain prefix and '/'.
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const MAX_NAME = 63;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_PREFIX = 253;

const KEY_RULE =
  "an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 letters, digits, " +
  "'-', '_' or '.', starting and ending with a letter or digit";
const VALUE_RULE =
  "empty, or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

/**
 * Checks the labels of a register message from an untrusted plugin: at most
 * {@link LABEL_LIMITS}, with Kubernetes label keys and values. Throws
 * INVALID_ARGUMENT saying which bound or rule was broken.
 */
export function validateLabels(labels: Readonly<Record<string, string>>): void {
  const entries = Object.entries(labels);
  if (entries.length > LABEL_LIMITS.maxLabels) {
    throw invalid(
      `register announces ${entries.length} labels, more than the limit of ${LABEL_LIMITS.maxLabels}`,
    );
  }
  let bytes = 0;
  for (const [key, value] of entries) {
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    if (bytes > LABEL_LIMITS.maxBytes) {
      throw invalid(
        `register labels take more than ${LABEL_LIMITS.maxBytes} bytes (keys and values, UTF-8), the limit`,
      );
    }
    if (!isLabelKey(key)) {
      throw invalid(`label key ${quote(key)} is not a Kubernetes label key (${KEY_RULE})`);
    }
    if (value !== "" && !(value.length <= MAX_NAME && NAME.test(value))) {
      throw invalid(
        `label ${quote(key)} has value ${quote(value)}, not a Kubernetes label value (${VALUE_RULE})`,
      );
    }
  }
}

function isLabelKey(key: string): boolean {
  const slash = key.indexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > MAX_PREFIX || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length <= MAX_NAME && NAME.test(name);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function invalid(message: string): PluginFrameworkError {
  return new PluginFrameworkError(status.INVALID_ARGUMENT, message);
}
