import { describe, expect, it } from "vitest";
import { leastInFlight, roundRobin } from "./balancer.js";
import { FakeSession } from "./fake-session.test-support.js";

const replicas = (count: number) => Array.from({ length: count }, (_, i) => new FakeSession(`s${i}`));

function tally(picks: FakeSession[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const session of picks) counts[session.id] = (counts[session.id] ?? 0) + 1;
  return counts;
}

describe("roundRobin", () => {
  it("gives each session its turn, in order", () => {
    const sessions = replicas(3);
    const pick = roundRobin();
    const picks = Array.from({ length: 9 }, () => pick(sessions, undefined) as FakeSession);
    expect(tally(picks)).toEqual({ s0: 3, s1: 3, s2: 3 });
    // Consecutive picks never repeat a session while others wait.
    for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1]);
  });

  it("ignores load", () => {
    const sessions = [new FakeSession("busy").setBusy(100), new FakeSession("idle")];
    const pick = roundRobin();
    const picks = Array.from({ length: 4 }, () => pick(sessions, undefined) as FakeSession);
    expect(tally(picks)).toEqual({ busy: 2, idle: 2 });
  });

  it("keeps a key on one session", () => {
    const sessions = replicas(4);
    const pick = roundRobin();
    const first = pick(sessions, "tenant-a");
    for (let i = 0; i < 10; i++) expect(pick(sessions, "tenant-a")).toBe(first);
  });
});

describe("leastInFlight", () => {
  it("picks the session with the fewest calls in flight", () => {
    const sessions = [
      new FakeSession("a").setBusy(5),
      new FakeSession("b").setBusy(1),
      new FakeSession("c").setBusy(3),
    ];
    const pick = leastInFlight();
    for (let i = 0; i < 5; i++) expect(pick(sessions, undefined).id).toBe("b");
  });

  it("spreads ties round robin", () => {
    const sessions = replicas(3);
    const pick = leastInFlight();
    const picks = Array.from({ length: 6 }, () => pick(sessions, undefined) as FakeSession);
    expect(tally(picks)).toEqual({ s0: 2, s1: 2, s2: 2 });
  });

  it("follows the load as it changes", () => {
    const [a, b] = [new FakeSession("a"), new FakeSession("b")];
    const pick = leastInFlight();
    a.setBusy(2);
    expect(pick([a, b], undefined)).toBe(b);
    b.setBusy(3);
    expect(pick([a, b], undefined)).toBe(a);
  });
});

describe("affinity keys (both balancers)", () => {
  for (const [label, make] of [
    ["roundRobin", roundRobin],
    ["leastInFlight", leastInFlight],
  ] as const) {
    it(`${label}: only the keys of a session that leaves move`, () => {
      const sessions = replicas(5);
      const pick = make();
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
      const before = new Map(keys.map((key) => [key, pick(sessions, key)]));
      // Keys spread over the replicas rather than piling onto one.
      expect(new Set(before.values()).size).toBe(5);
      const leaving = sessions[2]!;
      const rest = sessions.filter((session) => session !== leaving);
      for (const key of keys) {
        const after = pick(rest, key);
        if (before.get(key) !== leaving) expect(after).toBe(before.get(key));
        else expect(after).not.toBe(leaving);
      }
    });

    it(`${label}: a key ignores load`, () => {
      const sessions = replicas(3);
      const pick = make();
      const chosen = pick(sessions, "k") as FakeSession;
      chosen.setBusy(1_000);
      expect(pick(sessions, "k")).toBe(chosen);
    });
  }
});
