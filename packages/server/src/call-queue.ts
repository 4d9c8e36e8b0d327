/**
 * Calls waiting for a stream slot on one session, first come first served,
 * the way an HTTP/2 client holds calls past the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS until a stream closes. Bounded, so a
 * runaway caller meets RESOURCE_EXHAUSTED instead of growing memory forever.
 * It holds no timers or listeners: each waiter keeps its own deadline and
 * leaves with {@link CallQueue.remove}.
 */
export class CallQueue<T> {
  // A Set keeps insertion order and removes a cancelled waiter in O(1).
  private readonly waiting = new Set<T>();

  /** @param bound Waiters held at most; 0 queues nothing. */
  constructor(readonly bound: number) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Adds `waiter` at the back; false (and nothing added) when the queue is full. */
  push(waiter: T): boolean {
    if (this.waiting.size >= this.bound) return false;
    this.waiting.add(waiter);
    return true;
  }

  /** Takes `waiter` out wherever it is (its caller gave up); false if it was not queued. */
  remove(waiter: T): boolean {
    return this.waiting.delete(waiter);
  }

  /** Removes and returns the waiter first in line, or undefined if none waits. */
  shift(): T | undefined {
    for (const waiter of this.waiting) {
      this.waiting.delete(waiter);
      return waiter;
    }
    return undefined;
  }

  /** Empties the queue and returns its waiters, first in line first. */
  clear(): T[] {
    const all = [...this.waiting];
    this.waiting.clear();
    return all;
  }
}

/** The RESOURCE_EXHAUSTED message for a call that found a session's queue full. */
export function queueFullMessage(plugin: string, open: number, bound: number): string {
  return (
    `plugin "${plugin}" session has ${open} calls open and ${bound} waiting, the bound set by ` +
    `the plugin server's maxQueuedCalls option: retry later, or raise maxQueuedCalls or maxConcurrentStreams`
  );
}
