import { afterEach, describe, expect, it, vi } from "vitest";
import { createWorkQueue } from "./work-queue.js";

describe("createWorkQueue", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("hands out keys in order and queues a waiting key only once", async () => {
    const queue = createWorkQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe("a");
    expect(await queue.get()).toBe("b");
    expect(queue.length).toBe(0);
  });

  it("never gives one key to two workers; a key added while held comes back after done", async () => {
    const queue = createWorkQueue();
    queue.add("a");
    const key = await queue.get();
    queue.add("a");
    queue.add("a");
    // Held by a worker: a second worker must not get it.
    expect(queue.length).toBe(0);
    let second: string | undefined;
    const next = queue.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    queue.done(key!);
    await next;
    expect(second).toBe("a");
    queue.done("a");
    expect(queue.length).toBe(0);
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const queue = createWorkQueue();
    const got = queue.get();
    queue.add("x");
    expect(await got).toBe("x");
  });

  it("backs off exponentially per key, capped, until forgotten", async () => {
    vi.useFakeTimers();
    const queue = createWorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      queue.addRateLimited("k");
      let waited = 0;
      while (queue.length === 0 && waited < 1_000) {
        vi.advanceTimersByTime(1);
        waited += 1;
      }
      delays.push(waited);
      queue.done((await queue.get())!);
    }
    expect(delays).toEqual([10, 20, 40, 40, 40]);
    expect(queue.failures("k")).toBe(5);
    queue.forget("k");
    expect(queue.failures("k")).toBe(0);
    queue.shutDown();
  });

  it("keeps the earliest of two delayed adds of one key", () => {
    vi.useFakeTimers();
    const queue = createWorkQueue();
    queue.addAfter("k", 1_000);
    queue.addAfter("k", 10);
    queue.addAfter("k", 500);
    vi.advanceTimersByTime(10);
    expect(queue.length).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(queue.length).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("on shutDown ends waiting workers, drops keys and clears every timer", async () => {
    vi.useFakeTimers();
    const queue = createWorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    queue.addAfter("late", 100);
    queue.addRateLimited("late");
    queue.add("late");
    expect(vi.getTimerCount()).toBe(0);
    expect(queue.length).toBe(0);
    expect(await queue.get()).toBeUndefined();

    const other = createWorkQueue();
    other.addAfter("k", 100);
    other.add("j");
    other.shutDown();
    expect(vi.getTimerCount()).toBe(0);
    expect(await other.get()).toBeUndefined();
  });
});
