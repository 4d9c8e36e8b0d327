import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Liveness } from "./liveness.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function liveness(intervalMs = 100, timeoutMs = 50) {
  const pings: number[] = [];
  const dead: string[] = [];
  const l = new Liveness({
    intervalMs,
    timeoutMs,
    sendPing: (nonce) => pings.push(nonce),
    onDead: (message) => dead.push(message),
  });
  return { l, pings, dead };
}

describe("Liveness", () => {
  it("pings every interval while the peer answers", () => {
    const { l, pings, dead } = liveness();
    l.start();
    vi.advanceTimersByTime(100);
    expect(pings).toHaveLength(1);
    l.onAck(pings[0]!);
    vi.advanceTimersByTime(100);
    expect(pings).toHaveLength(2);
    l.onAck(pings[1]!);
    expect(dead).toEqual([]);
    l.stop();
  });

  it("declares the peer dead once, a timeout after it was last heard, naming the ping", () => {
    const { l, pings, dead } = liveness(100, 250);
    l.start();
    vi.advanceTimersByTime(100);
    expect(pings).toHaveLength(1);
    vi.advanceTimersByTime(149);
    expect(dead).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(dead).toEqual(["no answer to ping within 150 ms (nothing heard for 250 ms)"]);
    vi.advanceTimersByTime(1_000);
    expect(dead).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives a ping the whole timeout when the interval is not shorter than it", () => {
    const { l, dead } = liveness(100, 50);
    l.start();
    vi.advanceTimersByTime(149);
    expect(dead).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(dead).toEqual(["no answer to ping within 50 ms (nothing heard for 150 ms)"]);
  });

  it("counts any message from the peer as alive, even without the answer", () => {
    const { l, dead } = liveness();
    l.start();
    vi.advanceTimersByTime(100);
    l.onActivity();
    vi.advanceTimersByTime(50);
    expect(dead).toEqual([]);
    l.stop();
  });

  it("never pings with an interval of 0, and stop() leaves no timer", () => {
    const off = liveness(0);
    off.l.start();
    vi.advanceTimersByTime(10_000);
    expect(off.pings).toEqual([]);
    const on = liveness();
    on.l.start();
    on.l.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
