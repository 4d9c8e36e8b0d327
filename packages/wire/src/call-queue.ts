/**
 * Calls waiting for a stream slot, first come first served,
 * the way an HTTP/2 client holds calls past the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS until a stream closes: the operator's
 * calls on one plugin session, and a plugin's host calls. Bounded, so a
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

  /** The waiter first in line, left in place; undefined if none waits. */
  peek(): T | undefined {
    for (const waiter of this.waiting) return waiter;
    return undefined;
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
