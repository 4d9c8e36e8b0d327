import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { parseServiceAccountUser } from "../service-account-user.js";
import type { PluginIdentity, StreamAuthenticator } from "../types.js";
import { checkIdentityString, MAX_GROUPS } from "./identity-strings.js";
import { createTrustedPeers } from "./trusted-peers.js";

/** Options of {@link proxyHeaderAuthenticator}. */
export interface ProxyHeaderAuthenticatorOptions {
  /** Header with the user name (`--auth-header-user-field-name`). Default: `"x-remote-user"`. */
  userHeader?: string;
  /** Header with the groups (`--auth-header-groups-field-name`). Default: `"x-remote-groups"`. */
  groupsHeader?: string;
  /** Separator between groups (`--auth-header-groups-field-separator`). Default: `"|"`. */
  groupSeparator?: string;
  /**
   * Addresses or CIDR ranges of a kube-rbac-proxy that reaches the server
   * from another address, e.g. `["10.0.0.5"]`: their identity headers are
   * believed, and so are loopback and unix-socket peers'. Streams from any
   * other peer are refused with UNAUTHENTICATED. Setting it is what lets the
   * server listen on a non-loopback address (createPluginServer refuses
   * otherwise). Default: `[]`, loopback and unix-socket peers only.
   */
  trustProxyHeadersFrom?: string[];
}

/**
 * Trusts the identity kube-rbac-proxy forwards in `x-remote-user` and
 * `x-remote-groups`, having authenticated (TokenReview) and authorized
 * (SubjectAccessReview) the plugin itself.
 *
 * **Safe only behind the proxy.** The server must listen on loopback
 * (`127.0.0.1`, `[::1]` or a unix socket) so that nothing but the proxy
 * sidecar can reach it; `createPluginServer` refuses any other listen address
 * unless `trustProxyHeadersFrom` names the proxy. The proxy must run with
 * `--auth-header-fields-enabled`: only then does it overwrite these headers.
 *
 * Refused with UNAUTHENTICATED: a peer that is neither loopback, a unix
 * socket nor in `trustProxyHeadersFrom`; a missing user header; a user or
 * groups header sent more than once (the proxy sends exactly one, so a second
 * came from the client); a user or group that is empty, unprintable or longer
 * than 1024 characters; more than 256 groups.
 */
export function proxyHeaderAuthenticator(options: ProxyHeaderAuthenticatorOptions = {}): StreamAuthenticator {
  const userHeader = (options.userHeader ?? "x-remote-user").toLowerCase();
  const groupsHeader = (options.groupsHeader ?? "x-remote-groups").toLowerCase();
  const separator = options.groupSeparator ?? "|";
  const trustedFrom = [...(options.trustProxyHeadersFrom ?? [])];
  const trusted = createTrustedPeers("trustProxyHeadersFrom", trustedFrom);
  return {
    mode: "proxy-headers",
    trustsPeerHeaders: {
      headers: [userHeader, groupsHeader],
      trustedFrom,
      option: "proxyHeaderAuthenticator({ trustProxyHeadersFrom })",
    },
    async authenticate(context): Promise<PluginIdentity> {
      if (!trusted(context.peer)) {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          `identity headers from peer ${context.peer} are not trusted: only loopback, unix-socket and ` +
            "trustProxyHeadersFrom peers may send them; connect through kube-rbac-proxy",
        );
      }
      const users = context.headers[userHeader] ?? [];
      if (users.length === 0 || users[0]!.trim() === "") {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          `no ${userHeader} header: the server trusts kube-rbac-proxy's identity headers; ` +
            "connect through the proxy, and run it with --auth-header-fields-enabled",
        );
      }
      const groupValues = context.headers[groupsHeader] ?? [];
      // The proxy sets each exactly once; a second value came from the client past a proxy that did not overwrite it.
      for (const [header, values] of [
        [userHeader, users],
        [groupsHeader, groupValues],
      ] as const) {
        if (values.length > 1) {
          throw new PluginFrameworkError(
            status.UNAUTHENTICATED,
            `${values.length} ${header} headers: the proxy sends exactly one, so the others came from the client; ` +
              "run kube-rbac-proxy with --auth-header-fields-enabled so that it overwrites them",
          );
        }
      }
      const user = checkIdentityString(users[0]!.trim(), userHeader, "the user");
      const groups = (groupValues[0] ?? "")
        .split(separator)
        .map((group) => group.trim())
        .filter((group) => group !== "");
      if (groups.length > MAX_GROUPS) {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          `more than ${MAX_GROUPS} groups in the ${groupsHeader} header`,
        );
      }
      for (const group of groups) checkIdentityString(group, groupsHeader, "a group");
      const serviceAccount = parseServiceAccountUser(user);
      return { user, groups, ...(serviceAccount === undefined ? {} : { serviceAccount }) };
    },
  };
}
