import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { parseServiceAccountUser } from "../service-account-user.js";
import type { PluginIdentity, StreamAuthenticator } from "../types.js";

/** Options of {@link proxyHeaderAuthenticator}. */
export interface ProxyHeaderAuthenticatorOptions {
  /** Header with the user name (`--auth-header-user-field-name`). Default: `"x-remote-user"`. */
  userHeader?: string;
  /** Header with the groups (`--auth-header-groups-field-name`). Default: `"x-remote-groups"`. */
  groupsHeader?: string;
  /** Separator between groups (`--auth-header-groups-field-separator`). Default: `"|"`. */
  groupSeparator?: string;
}

function values(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

/**
 * Trusts the identity kube-rbac-proxy forwards in `x-remote-user` and
 * `x-remote-groups`, having authenticated (TokenReview) and authorized
 * (SubjectAccessReview) the plugin itself.
 *
 * **Safe only behind the proxy.** The server must listen on loopback
 * (`127.0.0.1` or a unix socket) so that nothing but the proxy sidecar can
 * reach it, and the proxy must run with `--auth-header-fields-enabled`: only
 * then does it overwrite these headers. Otherwise any client can name itself
 * by sending them.
 *
 * A missing or empty user header → UNAUTHENTICATED.
 */
export function proxyHeaderAuthenticator(options: ProxyHeaderAuthenticatorOptions = {}): StreamAuthenticator {
  const userHeader = (options.userHeader ?? "x-remote-user").toLowerCase();
  const groupsHeader = (options.groupsHeader ?? "x-remote-groups").toLowerCase();
  const separator = options.groupSeparator ?? "|";
  return {
    mode: "proxy-headers",
    async authenticate(context): Promise<PluginIdentity> {
      const users = values(context.headers[userHeader]).map((value) => value.trim());
      if (users.length === 0 || users[0] === "") {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          `no ${userHeader} header: the server trusts kube-rbac-proxy's identity headers; ` +
            "connect through the proxy, and run it with --auth-header-fields-enabled",
        );
      }
      // The proxy sets exactly one value; several mean the header did not come from it alone.
      if (new Set(users).size > 1) {
        throw new PluginFrameworkError(status.UNAUTHENTICATED, `conflicting ${userHeader} headers`);
      }
      const user = users[0]!;
      const groups = values(context.headers[groupsHeader])
        .flatMap((value) => value.split(separator))
        .map((group) => group.trim())
        .filter((group) => group !== "");
      const serviceAccount = parseServiceAccountUser(user);
      return { user, groups, ...(serviceAccount === undefined ? {} : { serviceAccount }) };
    },
  };
}
