import { status } from "@grpc/grpc-js";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { createLeaderElector } from "@operator-plugin-framework/server/leader-election";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  allowLeases,
  type InProcessContender,
  leaseName,
  namespace,
  readLease,
  startContender,
} from "./fixtures/leader-contender.js";

// Short durations (the Lease records whole seconds), with a renew deadline loose enough
// that a loaded machine does not make a leader lose the Lease on its own.
const timing = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 100 };

let api: FakeKubeApi;
let contenders: InProcessContender[];

beforeEach(async () => {
  api = await startFakeKubeApi();
  contenders = [];
});

afterEach(async () => {
  await Promise.all(contenders.map((c) => c.stop()));
  await api.close();
});

function contender(identity: string): InProcessContender {
  const started = startContender(api, identity, timing);
  contenders.push(started);
  return started;
}

/** Resolves once the Lease has been written `count` more times. */
async function leaseWrites(count: number): Promise<void> {
  const first = Number((await readLease(api)).metadata?.resourceVersion);
  await expect
    .poll(async () => Number((await readLease(api)).metadata?.resourceVersion) - first, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(count);
}

function writeLease(spec: Record<string, unknown>) {
  return api
    .kubeConfig()
    .makeApiClient(CoordinationV1Api)
    .createNamespacedLease({
      namespace,
      body: { metadata: { name: leaseName, namespace }, spec: spec as never },
    });
}

describe("Lease leader election against the fake API", () => {
  it("creates the Lease, leads, and keeps renewing it while others wait", async () => {
    const a = contender("a");
    await a.next("started");
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.leader()).toBe("a");
    const lease = await readLease(api);
    expect(lease.spec).toMatchObject({ holderIdentity: "a", leaseDurationSeconds: 3, leaseTransitions: 0 });
    const b = contender("b");
    // Over a lease duration of renewals (>= 100 ms apart): b never takes over a renewed Lease.
    await leaseWrites(35);
    expect(b.events.filter((e) => e.type === "started")).toEqual([]);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.leader()).toBe("a");
    expect(b.events).toContainEqual(expect.objectContaining({ type: "new-leader", identity: "a" }));
    expect((await readLease(api)).spec?.holderIdentity).toBe("a");
  }, 45_000);

  it("releases on a graceful stop: the signal aborts first, and the next replica takes over within retryPeriod", async () => {
    const a = contender("a");
    await a.next("started");
    const b = contender("b");
    await expect.poll(() => b.elector.leader()).toBe("a");
    const bStarted = b.next("started");
    const stoppedAt = performance.now();
    await a.stop();
    const started = await bStarted;
    const stopped = a.events.find((e) => e.type === "stopped")!;
    expect(stopped.at).toBeLessThan(started.at);
    expect(started.at - stoppedAt).toBeLessThan(timing.retryPeriodMs + 1_000);
    expect(a.elector.isLeader()).toBe(false);
    const lease = await readLease(api);
    expect(lease.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
  });

  it("gives up leadership when renewals fail past renewDeadline, before anyone else takes over", async () => {
    const a = contender("a");
    await a.next("started");
    const b = contender("b");
    await expect.poll(() => b.elector.leader()).toBe("a");
    const fault = api.faults.failNext({ resource: "leases", user: "a", count: Number.POSITIVE_INFINITY });
    const faultAt = performance.now();
    const stopped = await a.next("stopped");
    // It stops within the deadline (measured from the last renewal, which preceded the fault).
    expect(stopped.at - faultAt).toBeLessThan(timing.renewDeadlineMs + 500);
    const started = await b.next("started");
    expect(started.at).toBeGreaterThan(stopped.at);
    fault.clear();
    expect((await readLease(api)).spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    // a contends again, and follows b.
    await expect.poll(() => a.elector.leader()).toBe("b");
    expect(a.elector.isLeader()).toBe(false);
  });

  it("gives up leadership when renewals hang, aborting the hung request at the deadline", async () => {
    const a = contender("a");
    await a.next("started");
    const fault = api.faults.hangNext({ resource: "leases", user: "a", count: Number.POSITIVE_INFINITY });
    const faultAt = performance.now();
    const stopped = await a.next("stopped");
    expect(stopped.at - faultAt).toBeLessThan(timing.renewDeadlineMs + 500);
    expect(fault.hits).toBeGreaterThan(0);
    fault.clear();
  });

  it("steps down at once when it sees another holder in the Lease", async () => {
    const a = contender("a");
    await a.next("started");
    const lease = await readLease(api);
    const client = api.kubeConfig().makeApiClient(CoordinationV1Api);
    await client.replaceNamespacedLease({
      name: leaseName,
      namespace,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "intruder" } },
    });
    await a.next("stopped");
    expect(a.elector.leader()).toBe("intruder");
  });

  it("lets exactly one of several replicas racing for a free Lease lead (409 means re-read)", async () => {
    const racers = ["a", "b", "c", "d"].map(contender);
    await Promise.race(racers.map((r) => r.next("started")));
    await leaseWrites(10);
    expect(racers.filter((r) => r.elector.isLeader())).toHaveLength(1);
    expect(racers.flatMap((r) => r.events.filter((e) => e.type === "started"))).toHaveLength(1);
  });

  it("measures expiry from its own observation, not the holder's timestamps (clock skew)", async () => {
    // A holder whose renewTime is far in the past, as a node with a skewed clock would write it.
    await writeLease({
      holderIdentity: "skewed",
      leaseDurationSeconds: 1,
      acquireTime: "2000-01-01T00:00:00.000000Z",
      renewTime: "2000-01-01T00:00:00.000000Z",
      leaseTransitions: 4,
    });
    const startedAt = performance.now();
    const a = contender("a");
    const started = await a.next("started");
    expect(started.at - startedAt).toBeGreaterThanOrEqual(1_000);
    expect((await readLease(api)).spec).toMatchObject({ holderIdentity: "a", leaseTransitions: 5 });
  });

  it("treats a Lease held by someone else with a malformed record as held until it expires", async () => {
    await writeLease({
      holderIdentity: "ghost",
      leaseDurationSeconds: "soon",
      renewTime: "garbage",
      leaseTransitions: -3,
    });
    const startedAt = performance.now();
    const a = contender("a");
    await expect.poll(() => a.elector.leader()).toBe("ghost");
    const started = await a.next("started");
    // Held for our own leaseDuration, since the record's is unreadable.
    expect(started.at - startedAt).toBeGreaterThanOrEqual(timing.leaseDurationMs);
    expect((await readLease(api)).spec).toMatchObject({ holderIdentity: "a", leaseTransitions: 1 });
  });

  it("takes a released Lease (empty holder) at its next try", async () => {
    await writeLease({ holderIdentity: "", leaseDurationSeconds: 3600, leaseTransitions: 2 });
    const startedAt = performance.now();
    const a = contender("a");
    const started = await a.next("started");
    expect(started.at - startedAt).toBeLessThan(timing.retryPeriodMs + 1_000);
    expect((await readLease(api)).spec).toMatchObject({ holderIdentity: "a", leaseTransitions: 3 });
  });

  it("refuses inconsistent durations and a second start, and an aborted start touches nothing", async () => {
    const kubeConfig = api.kubeConfig({ token: allowLeases(api, "x") });
    const base = { kubeConfig, namespace, leaseName, onStartedLeading: () => {} };
    expect(() => createLeaderElector({ ...base, leaseDurationMs: 1_000, renewDeadlineMs: 1_000 })).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        message: expect.stringMatching(/leaseDurationMs/),
      }),
    );
    expect(() => createLeaderElector({ ...base, renewDeadlineMs: 100, retryPeriodMs: 100 })).toThrow(
      /renewDeadlineMs/,
    );
    const elector = createLeaderElector(base);
    expect(elector.identity).toMatch(/_[0-9a-f]{8}$/);
    await elector.start(AbortSignal.abort());
    expect(api.requests.leases).toBe(0);
    await expect(elector.start()).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it("leaves no timer behind once stopped", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const a = contender("a");
    await a.next("started");
    const b = contender("b");
    await expect.poll(() => b.elector.leader()).toBe("a");
    await Promise.all([a.stop(), b.stop()]);
    expect(timers()).toBeLessThanOrEqual(before);
    expect(a.elector.isLeader()).toBe(false);
  });
});
