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

  it("declares the peer dead once when a ping goes unanswered for the timeout", () => {
    const { l, pings, dead } = liveness();
    l.start();
    vi.advanceTimersByTime(100);
    l.onAck(pings[0]! + 1); // a stale or wrong nonce proves nothing
    vi.advanceTimersByTime(50);
    expect(dead).toEqual(["peer did not answer a ping within 50 ms"]);
    vi.advanceTimersByTime(1_000);
    expect(dead).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
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
