import { describe, expect, it } from "vitest";
import { raceTimeout } from "./race-timeout.js";

describe("raceTimeout", () => {
  it("is true when the promise settles first, rejected or not", async () => {
    await expect(raceTimeout(Promise.resolve(1), 10_000)).resolves.toBe(true);
    await expect(raceTimeout(Promise.reject(new Error("x")), 10_000)).resolves.toBe(true);
  });

  it("is false when the time runs out first", async () => {
    await expect(raceTimeout(new Promise(() => {}), 1)).resolves.toBe(false);
  });

  it("leaves no timer behind", async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    await raceTimeout(Promise.resolve(), 60_000);
    const after = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(after).toBeLessThanOrEqual(before);
  });
});
