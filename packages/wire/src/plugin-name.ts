import { status as Status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "./errors.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Plugin names are DNS-1123 labels, like Kubernetes object names, so they can
 * be used as `resourceNames` in RBAC rules. Throws INVALID_ARGUMENT otherwise.
 */
export function validatePluginName(name: string): void {
  if (name.length === 0) throw new PluginFrameworkError(Status.INVALID_ARGUMENT, "plugin name is empty");
  if (name.length > 63 || !DNS1123_LABEL.test(name)) {
    throw new PluginFrameworkError(
      Status.INVALID_ARGUMENT,
      `plugin name ${JSON.stringify(name.slice(0, 80))} is not a DNS-1123 label ` +
        "(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
    );
  }
}
