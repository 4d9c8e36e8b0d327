/** A bounded cache whose entries expire, for review results. */
export interface TtlCache<V> {
  get(key: string): V | undefined;
  /** Stores `value` for `ttlMs`; a TTL of 0 or less stores nothing. */
  set(key: string, value: V, ttlMs: number): void;
  readonly size: number;
}

/** Options of {@link createTtlCache}. */
export interface TtlCacheOptions {
  /** Most entries kept; the least recently used go first. Required. */
  maxEntries: number;
  /** The clock. Required. */
  now: () => number;
}

/**
 * Creates an LRU cache with per-entry expiry. Bounded because its keys come
 * from callers (tokens, user names): an unbounded cache would let anyone grow
 * the operator's memory by presenting new tokens.
 */
export function createTtlCache<V>(options: TtlCacheOptions): TtlCache<V> {
  // A Map iterates in insertion order, so re-inserting on access keeps the
  // least recently used entry first.
  const entries = new Map<string, { value: V; expiresAt: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (options.now() >= entry.expiresAt) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, ttlMs) {
      entries.delete(key);
      if (ttlMs <= 0) return;
      entries.set(key, { value, expiresAt: options.now() + ttlMs });
      while (entries.size > options.maxEntries) {
        entries.delete(entries.keys().next().value as string);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
