import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * Where a plugin gets the bearer token it presents to the operator (or to
 * kube-rbac-proxy in front of it). The client calls `getToken()` on every
 * connection attempt, so a source that re-reads its backing store picks up
 * rotated tokens. Implement it for a custom source (a vault, an exec plugin).
 *
 * @example
 * const source: TokenSource = {
 *   getToken: async () => (await vault.read("plugin-token")).value,
 *   describe: () => "vault secret plugin-token",
 * };
 */
export interface TokenSource {
  /** The current token. Rejects with a PluginFrameworkError when there is none. */
  getToken(): Promise<string>;
  /** Where the token comes from, for messages and logs. Never the token itself. */
  describe(): string;
}

/**
 * A fixed token, e.g. from an environment variable. It never rotates: prefer
 * {@link serviceAccountToken} in a cluster.
 */
export function staticToken(value: string): TokenSource {
  const token = value.trim();
  if (token.length === 0) {
    throw new PluginFrameworkError(
      status.INVALID_ARGUMENT,
      "staticToken: the token is empty; pass a non-empty bearer token or use serviceAccountToken()",
    );
  }
  return {
    getToken: async () => token,
    describe: () => "static token",
  };
}
