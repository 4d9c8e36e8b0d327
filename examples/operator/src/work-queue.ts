/** Options of {@link createWorkQueue}. */
export interface WorkQueueOptions {
  /** The first retry delay of a failing key; it doubles on each failure. Default 50 ms. */
  baseDelayMs?: number;
  /** The longest retry delay. Default 30 000 ms. */
  maxDelayMs?: number;
}

/**
 * A work queue in the spirit of client-go's: a key is queued at most once, is
 * handed to at most one worker at a time, and a key added while a worker holds
 * it comes back once that worker is done, so no change is lost and no object
 * is reconciled twice at once.
 */
export interface WorkQueue {
  /** Queues `key` unless it is already waiting. */
  add(key: string): void;
  /** Queues `key` after `delayMs`; an earlier pending time for the key wins. */
  addAfter(key: string, delayMs: number): void;
  /** Queues `key` after its backoff: base, 2×base, 4×base, … capped at the maximum. */
  addRateLimited(key: string): void;
  /** Resets the backoff of `key` (after a success). */
  forget(key: string): void;
  /** The number of failures of `key` since it was last forgotten. */
  failures(key: string): number;
  /**
   * The next key, waiting for one if need be; undefined once shut down. The
   * caller owns the key until it calls `done(key)`.
   */
  get(): Promise<string | undefined>;
  /** Releases a key taken with `get`; re-queues it if it was added meanwhile. */
  done(key: string): void;
  /** Keys waiting now (not counting delayed ones). */
  readonly length: number;
  /** Drops every waiting and delayed key, clears every timer, and ends every `get`. */
  shutDown(): void;
}

export function createWorkQueue(options: WorkQueueOptions = {}): WorkQueue {
  const baseDelayMs = options.baseDelayMs ?? 50;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const queue: string[] = [];
  const dirty = new Set<string>();
  const processing = new Set<string>();
  const delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const failureCounts = new Map<string, number>();
  const waiters: ((key: string | undefined) => void)[] = [];
  let shutDown = false;

  const push = (key: string) => {
    const waiter = waiters.shift();
    if (waiter) {
      dirty.delete(key);
      processing.add(key);
      waiter(key);
    } else queue.push(key);
  };

  const add = (key: string) => {
    if (shutDown || dirty.has(key)) return;
    dirty.add(key);
    // A key being worked on waits for done(), which re-queues it.
    if (!processing.has(key)) push(key);
  };

  const addAfter = (key: string, delayMs: number) => {
    if (shutDown) return;
    if (delayMs <= 0) return add(key);
    const at = Date.now() + delayMs;
    const pending = delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      delayed.delete(key);
      add(key);
    }, delayMs);
    delayed.set(key, { at, timer });
  };

  return {
    add,
    addAfter,
    addRateLimited(key) {
      const failures = (failureCounts.get(key) ?? 0) + 1;
      failureCounts.set(key, failures);
      addAfter(key, Math.min(baseDelayMs * 2 ** (failures - 1), maxDelayMs));
    },
    forget: (key) => void failureCounts.delete(key),
    failures: (key) => failureCounts.get(key) ?? 0,
    get() {
      if (shutDown) return Promise.resolve(undefined);
      const key = queue.shift();
      if (key === undefined) return new Promise((resolve) => waiters.push(resolve));
      dirty.delete(key);
      processing.add(key);
      return Promise.resolve(key);
    },
    done(key) {
      processing.delete(key);
      if (dirty.has(key) && !shutDown) push(key);
    },
    get length() {
      return queue.length;
    },
    shutDown() {
      shutDown = true;
      for (const { timer } of delayed.values()) clearTimeout(timer);
      delayed.clear();
      queue.length = 0;
      dirty.clear();
      for (const waiter of waiters.splice(0)) waiter(undefined);
    },
  };
}
