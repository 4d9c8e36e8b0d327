import { describe, expect, it } from "vitest";
import { pairedRatios, quantile, range, spreadPct } from "./stats.js";

describe("bench statistics", () => {
  it("pairs ratios round by round and skips rounds missing on either side", () => {
    expect(pairedRatios([10, 20, null, 40], [5, 5, 5, 10])).toEqual({ median: 4, min: 2, max: 4 });
    expect(pairedRatios([null], [1])).toBeNull();
  });

  it("takes nearest-rank quantiles, median with min and max, and the spread in percent", () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 0.99)).toBe(100);
    expect(range([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(spreadPct([90, 100, 110])).toBeCloseTo(20);
  });
});
