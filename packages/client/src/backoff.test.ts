import { describe, expect, it } from "vitest";
import { backoffDelay, backoffWithDefaults, createReconnectSchedule, DEFAULT_BACKOFF } from "./backoff.js";

describe("backoffDelay", () => {
  const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2 };

  it("grows the cap exponentially from initialMs and stops at maxMs", () => {
    const caps = [1, 2, 3, 4, 5, 6, 50].map((failures) => backoffDelay(backoff, failures, () => 1));
    expect(caps).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it("draws uniformly between half the cap and the cap", () => {
    expect(backoffDelay(backoff, 3, () => 0)).toBe(200);
    expect(backoffDelay(backoff, 3, () => 0.5)).toBe(300);
  });

  it("stays within [cap / 2, cap] for any random draw", () => {
    for (let failures = 1; failures <= 20; failures++) {
      const cap = Math.min(1_000, 100 * 2 ** (failures - 1));
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(backoff, failures);
        expect(delay).toBeGreaterThanOrEqual(cap / 2);
        expect(delay).toBeLessThanOrEqual(cap);
      }
    }
  });

  it("brings a plugin back within 2T + initialMs of an outage of T ms ending, whatever the draws", () => {
    // The worst case: the shortest draws while the operator is down (the
    // most failures, the largest cap), then the longest draw across its return.
    const defaults = backoffWithDefaults(undefined);
    for (const outageMs of [300, 1_000, 1_500, 2_000, 4_000]) {
      for (const firstRetryDraw of [0, 1]) {
        let t = firstRetryDraw * defaults.firstRetryMs;
        let failures = 0;
        while (t < outageMs && failures < 1_000) {
          failures++;
          t += backoffDelay(defaults, failures, () =>
            t + backoffDelay(defaults, failures, () => 0) < outageMs ? 0 : 1,
          );
        }
        expect(t).toBeGreaterThanOrEqual(outageMs);
        expect(t - outageMs).toBeLessThanOrEqual(2 * outageMs + defaults.initialMs);
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
      firstRetryMs: 300,
      healthyAfterMs: 5_000,
    });
  });
});

describe("createReconnectSchedule", () => {
  const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2, firstRetryMs: 300, healthyAfterMs: 5_000 };
  /** A schedule on a hand-driven clock; `draw` is the next random number. */
  function setup() {
    const clock = { ms: 0, draw: 1 };
    const schedule = createReconnectSchedule({ backoff, now: () => clock.ms, random: () => clock.draw });
    return { clock, schedule };
  }
  const failTimes = (schedule: { ended(): number }, n: number) =>
    Array.from({ length: n }, () => schedule.ended());

  it("backs off exponentially while attempts fail", () => {
    const { schedule } = setup();
    expect(failTimes(schedule, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(schedule.failures).toBe(6);
  });

  it("retries within firstRetryMs after a healthy session, then backs off from initialMs", () => {
    const { clock, schedule } = setup();
    failTimes(schedule, 5);
    schedule.registered();
    clock.ms += 5_000;
    expect(schedule.ended()).toBe(300);
    expect(schedule.failures).toBe(0);
    expect(failTimes(schedule, 4)).toEqual([100, 200, 400, 800]);
  });

  it("spreads the first retry uniformly over [0, firstRetryMs]", () => {
    const { clock, schedule } = setup();
    const firstRetry = (draw: number) => {
      schedule.registered();
      clock.ms += 10_000;
      clock.draw = draw;
      return schedule.ended();
    };
    expect([0, 0.25, 0.5, 0.999].map(firstRetry)).toEqual([0, 75, 150, 300]);
  });

  it("counts a session that ended before healthyAfterMs as one more failure", () => {
    const { clock, schedule } = setup();
    failTimes(schedule, 3);
    schedule.registered();
    clock.ms += 4_999;
    // A fourth failure, not a fast retry: an operator that admits and drops at once is no hot loop.
    expect(schedule.ended()).toBe(800);
    expect(schedule.failures).toBe(4);
  });

  it("needs a new healthy session for the next fast retry", () => {
    const { clock, schedule } = setup();
    schedule.registered();
    clock.ms += 6_000;
    expect(schedule.ended()).toBe(300);
    // The time since that registration does not count for a later session end.
    clock.ms += 60_000;
    expect(schedule.ended()).toBe(100);
  });

  it("never waits past maxMs, even for the first retry", () => {
    const clock = { ms: 0 };
    const schedule = createReconnectSchedule({
      backoff: { ...backoff, maxMs: 40 },
      now: () => clock.ms,
      random: () => 1,
    });
    schedule.registered();
    clock.ms += 5_000;
    expect(schedule.ended()).toBe(40);
    expect(failTimes(schedule, 3)).toEqual([40, 40, 40]);
  });

  it("starts afresh after a drain", () => {
    const { schedule } = setup();
    failTimes(schedule, 4);
    schedule.registered();
    schedule.drained();
    expect(schedule.failures).toBe(0);
    expect(schedule.ended()).toBe(100);
  });

  it("spreads the re-registration after a drain uniformly over [0, firstRetryMs]", () => {
    const { clock, schedule } = setup();
    const afterDrain = (draw: number) => {
      failTimes(schedule, 3);
      clock.draw = draw;
      return schedule.drained();
    };
    // A fleet drained in one instant comes back over 300 ms, not in that instant.
    expect([0, 0.25, 0.5, 0.999].map(afterDrain)).toEqual([0, 75, 150, 300]);
  });
});
