import { createTtlCache, type TtlCache } from "./ttl-cache.js";

/**
 * Runs a review at most once per key while its result is cached, and once
 * for all callers while it is in flight, so a reconnect storm of many
 * replicas costs one API request. Errors are not cached.
 */
export function createCachedReview<V>(options: {
  maxEntries: number;
  now: () => number;
  ttlMs: (value: V) => number;
}): (key: string, review: () => Promise<V>) => Promise<V> {
  const cache: TtlCache<V> = createTtlCache({ maxEntries: options.maxEntries, now: options.now });
  const inflight = new Map<string, Promise<V>>();
  return (key, review) => {
    const cached = cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const running = inflight.get(key);
    if (running !== undefined) return running;
    const promise = review()
      .then((value) => {
        cache.set(key, value, options.ttlMs(value));
        return value;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, promise);
    return promise;
  };
}
