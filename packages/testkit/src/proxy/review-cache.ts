import type { ProxyAuthorizationAttributes, ProxyCacheOptions, ProxyIdentity } from "./types.js";

type Authenticate = (token: string) => Promise<ProxyIdentity | undefined>;
type Authorize = (attributes: ProxyAuthorizationAttributes) => Promise<boolean>;

/**
 * Wraps the two review functions with expiring caches. Entries are checked on
 * lookup, so there is no timer to release; tokens stay in memory only as map
 * keys, as in the real proxy.
 */
export function cacheReviews(
  authenticate: Authenticate,
  authorize: Authorize,
  options: ProxyCacheOptions,
): { authenticate: Authenticate; authorize: Authorize } {
  const now = options.now ?? Date.now;
  const authenticationTtl = options.authenticationTtlMs ?? 120_000;
  const allowTtl = options.allowTtlMs ?? 300_000;
  const denyTtl = options.denyTtlMs ?? 30_000;
  const identities = new Map<string, { value: ProxyIdentity | undefined; expires: number }>();
  const decisions = new Map<string, { value: boolean; expires: number }>();

  function fresh<V>(map: Map<string, { value: V; expires: number }>, key: string): { value: V } | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires > now()) return entry;
    map.delete(key);
    return undefined;
  }

  return {
    async authenticate(token) {
      const hit = fresh(identities, token);
      if (hit) return hit.value;
      const value = await authenticate(token);
      identities.set(token, { value, expires: now() + authenticationTtl });
      return value;
    },
    async authorize(attributes) {
      const key = JSON.stringify([
        attributes.user,
        [...attributes.groups].sort(),
        attributes.verb,
        attributes.path ?? null,
        attributes.resourceAttributes ?? null,
      ]);
      const hit = fresh(decisions, key);
      if (hit) return hit.value;
      const value = await authorize(attributes);
      decisions.set(key, { value, expires: now() + (value ? allowTtl : denyTtl) });
      return value;
    },
  };
}
