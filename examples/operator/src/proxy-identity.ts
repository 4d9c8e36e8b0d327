import { status } from "@grpc/grpc-js";
import type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthenticator,
} from "@operator-plugin-framework/auth";
import { PluginFrameworkError } from "@operator-plugin-framework/proto/wire";

/**
 * Trusts the identity kube-rbac-proxy forwards (`--auth-header-fields-enabled`:
 * `x-remote-user`, `x-remote-groups` joined by `|`). Only safe when the
 * operator listens on loopback behind the proxy, which overwrites whatever a
 * client sent; anyone who can reach the listener directly could claim any user.
 *
 * Kept in the example until the auth package ships its own proxy-header
 * authenticator.
 */
export function proxyHeaderIdentity(): StreamAuthenticator {
  return {
    mode: "proxy-headers",
    async authenticate({ headers }) {
      const user = first(headers["x-remote-user"]);
      if (!user) {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          "no x-remote-user header: connect through kube-rbac-proxy with --auth-header-fields-enabled",
        );
      }
      const groups = (first(headers["x-remote-groups"]) ?? "").split("|").filter(Boolean);
      const identity: PluginIdentity = { user, groups };
      const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
      if (sa) identity.serviceAccount = { namespace: sa[1]!, name: sa[2]! };
      return identity;
    },
  };
}

/**
 * The example's naming rule: a ServiceAccount may register the plugin name
 * equal to its own name, so one team's plugin cannot take over another's name.
 */
export const nameMatchesServiceAccount: PluginNameAuthorizer = async (identity, pluginName) => {
  if (identity.serviceAccount?.name === pluginName) return { allowed: true };
  return { allowed: false, reason: `only ServiceAccount "${pluginName}" may register it` };
};

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
