import { describe, expect, it } from "vitest";
import { createCachedReview } from "./cached-review.js";
import { createTtlCache } from "./ttl-cache.js";

describe("createTtlCache", () => {
  it("expires entries after their TTL", () => {
    let now = 0;
    const cache = createTtlCache<string>({ maxEntries: 10, now: () => now });
    cache.set("a", "1", 100);
    now = 99;
    expect(cache.get("a")).toBe("1");
    now = 100;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = createTtlCache<number>({ maxEntries: 2, now: () => 0 });
    cache.set("a", 1, 1000);
    cache.set("b", 2, 1000);
    cache.get("a");
    cache.set("c", 3, 1000);
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
  });
});

describe("createCachedReview", () => {
  it("shares one in-flight review between concurrent callers and does not cache errors", async () => {
    let calls = 0;
    const cached = createCachedReview<number>({ maxEntries: 10, now: () => 0, ttlMs: () => 1000 });
    let release!: (value: number) => void;
    const review = () => {
      calls += 1;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const first = cached("k", review);
    const second = cached("k", review);
    release(7);
    await expect(Promise.all([first, second])).resolves.toEqual([7, 7]);
    expect(calls).toBe(1);

    await expect(cached("e", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    await expect(cached("e", async () => 1)).resolves.toBe(1);
  });
});
