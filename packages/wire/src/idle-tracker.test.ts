import { describe, expect, it } from "vitest";
import { IdleTracker } from "./idle-tracker.js";

describe("IdleTracker", () => {
  it("resolves at once when no call is open", async () => {
    await expect(new IdleTracker(() => 0).idle()).resolves.toBeUndefined();
  });

  it("resolves every waiter once the last call ends, not before", async () => {
    let open = 2;
    const tracker = new IdleTracker(() => open);
    let resolved = 0;
    void tracker.idle().then(() => resolved++);
    void tracker.idle().then(() => resolved++);
    open = 1;
    tracker.check();
    await Promise.resolve();
    expect(resolved).toBe(0);
    open = 0;
    tracker.check();
    await new Promise(setImmediate);
    expect(resolved).toBe(2);
  });
});
