import type { Logger } from "@operator-plugin-framework/wire";
import type { PluginIdentity, StreamAuthenticator } from "../types.js";

/** Options of {@link noAuthenticator}. */
export interface NoAuthenticatorOptions {
  /** Where the warning goes. Default: `console.warn`, since this mode must never go unnoticed. */
  logger?: Pick<Logger, "warn">;
  /** The identity every plugin gets. Default: `"system:anonymous"`. */
  user?: string;
  /** Its groups. Default: `["system:unauthenticated"]`. */
  groups?: string[];
}

const warning =
  "plugin authentication is DISABLED (noAuthenticator): any process that can reach the server can register " +
  "any plugin name. Use this for local development only; in a cluster use proxyHeaderAuthenticator behind " +
  "kube-rbac-proxy or tokenReviewAuthenticator";

/**
 * Admits every stream as one fixed identity, for local development. It warns
 * once, when created, through `logger` or `console.warn`.
 */
export function noAuthenticator(options: NoAuthenticatorOptions = {}): StreamAuthenticator {
  if (options.logger !== undefined) options.logger.warn({ authMode: "none" }, warning);
  else console.warn(`WARNING: ${warning}`);
  const user = options.user ?? "system:anonymous";
  const groups = options.groups ?? ["system:unauthenticated"];
  return {
    mode: "none",
    async authenticate(): Promise<PluginIdentity> {
      return { user, groups: [...groups] };
    },
  };
}
