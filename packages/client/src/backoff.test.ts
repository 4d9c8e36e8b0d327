import { describe, expect, it } from "vitest";
import { backoffDelay, backoffWithDefaults, DEFAULT_BACKOFF } from "./backoff.js";

describe("backoffDelay", () => {
  const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2 };

  it("grows the cap exponentially from initialMs and stops at maxMs", () => {
    const caps = [1, 2, 3, 4, 5, 6, 50].map((failures) => backoffDelay(backoff, failures, () => 1));
    expect(caps).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it("draws uniformly below the cap (full jitter), down to zero", () => {
    expect(backoffDelay(backoff, 3, () => 0)).toBe(0);
    expect(backoffDelay(backoff, 3, () => 0.5)).toBe(200);
  });

  it("stays within [0, cap] for any random draw", () => {
    for (let failures = 1; failures <= 20; failures++) {
      const cap = Math.min(1_000, 100 * 2 ** (failures - 1));
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(backoff, failures);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(cap);
      }
    }
  });

  it("treats zero failures like the first", () => {
    expect(backoffDelay(backoff, 0, () => 1)).toBe(100);
  });
});

describe("backoffWithDefaults", () => {
  it("fills in 100 ms, 10 s and ×2, also for options given as undefined", () => {
    expect(backoffWithDefaults(undefined)).toEqual(DEFAULT_BACKOFF);
    expect(backoffWithDefaults({ initialMs: undefined, maxMs: 50 })).toEqual({
      initialMs: 100,
      maxMs: 50,
      multiplier: 2,
    });
  });
});
