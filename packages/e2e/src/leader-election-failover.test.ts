import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContenderPool, leadershipTerms, wallNow } from "./fixtures/leader-contenders.js";

// The Lease records whole seconds, so the lease duration is a whole number of seconds.
const timing = { leaseDurationMs: 2_000, renewDeadlineMs: 1_000, retryPeriodMs: 200 };
// 20 failovers: 4 kills (spaced, so the replacement process is up before the next
// one), 4 renewal failures and 12 graceful stops.
const cycle = ["kill", "graceful", "renewal-failure", "graceful", "graceful"] as const;
const plan = Array.from({ length: 20 }, (_, i) => cycle[i % cycle.length]!);

let api: FakeKubeApi;
let dir: string;
let pool: ReturnType<typeof createContenderPool>;

beforeAll(async () => {
  api = await startFakeKubeApi();
  dir = await mkdtemp(join(tmpdir(), "opf-leader-"));
  pool = createContenderPool(api, dir, timing);
});

afterAll(async () => {
  await pool.closeAll();
  await api.close();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

describe("leader election across three contender processes", () => {
  it("survives 20 forced failovers (kill, graceful stop, renewal failure) with never two leaders", async () => {
    let incarnation = 0;
    const spawnOne = () => pool.spawn(`replica-${incarnation++}`);
    const handovers: Array<{ mode: string; ms: number; from: string; to: string }> = [];
    const firstLeader = pool.next((e) => e.type === "started");
    await Promise.all([spawnOne(), spawnOne(), spawnOne()]);
    let leader = (await firstLeader).identity;
    let replacement: Promise<void> = Promise.resolve();

    for (const mode of plan) {
      if (mode === "kill") await replacement;
      const taken = pool.next((e) => e.type === "started" && e.identity !== leader);
      const forcedAt = wallNow();
      if (mode === "kill") {
        await pool.kill(leader);
        replacement = spawnOne();
      } else if (mode === "graceful") {
        await pool.stop(leader);
      } else {
        // Every Lease request of the leader fails until someone else leads.
        const fault = api.faults.failNext({
          resource: "leases",
          user: leader,
          count: Number.POSITIVE_INFINITY,
        });
        await taken;
        fault.clear();
      }
      const next = await taken;
      handovers.push({ mode, ms: next.at - forcedAt, from: leader, to: next.identity });
      if (mode === "graceful") pool.restart(leader);
      leader = next.identity;
    }
    await replacement;
    await Promise.all(pool.alive().map((identity) => pool.stop(identity)));

    // At no instant did two contenders believe they led, by their own logs. (Under load a
    // leader may also lose and regain the Lease by itself: more terms, never overlapping.)
    const terms = leadershipTerms(pool.log, wallNow());
    expect(terms.length).toBeGreaterThanOrEqual(plan.length + 1);
    for (let i = 1; i < terms.length; i++) {
      const [before, after] = [terms[i - 1]!, terms[i]!];
      expect(after.from, `${before.identity} then ${after.identity}`).toBeGreaterThan(before.to);
    }
    for (const { mode, ms, from, to } of handovers) {
      expect(to).not.toBe(from);
      // A killed or failing leader's last renewal preceded the fault: others take over at most a
      // lease duration (plus a retry to notice) after they saw it.
      const bound =
        mode === "graceful"
          ? timing.retryPeriodMs + 1_000
          : timing.leaseDurationMs + timing.retryPeriodMs + 1_000;
      expect(ms, `${mode} handover ${from} -> ${to}`).toBeLessThan(bound);
    }
    const by = (mode: string) => handovers.filter((h) => h.mode === mode).map((h) => Math.round(h.ms));
    console.log(
      `handover ms: kill ${by("kill")}; graceful ${by("graceful")}; renewal failure ${by("renewal-failure")}`,
    );
  }, 120_000);
});
