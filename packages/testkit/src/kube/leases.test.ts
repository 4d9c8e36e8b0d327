import { CoordinationV1Api, type V1Lease } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

let api: FakeKubeApi;
let leases: CoordinationV1Api;
const namespace = "operator-system";

beforeEach(async () => {
  api = await startFakeKubeApi();
  leases = api.kubeConfig().makeApiClient(CoordinationV1Api);
});

afterEach(async () => {
  await api.close();
});

function lease(holder: string, resourceVersion?: string): V1Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "leader", namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: new Date("2030-01-01T00:00:00Z") },
  };
}

describe("fake Kubernetes API: Leases", () => {
  it("creates, reads and replaces a lease with resourceVersion bumps", async () => {
    const created = await leases.createNamespacedLease({ namespace, body: lease("replica-a") });
    expect(created.metadata?.name).toBe("leader");
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.holderIdentity).toBe("replica-a");

    const read = await leases.readNamespacedLease({ name: "leader", namespace });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    // client-node 1.x types MicroTime as Date but hands back the wire string.
    expect(new Date(read.spec?.acquireTime as unknown as string).toISOString()).toBe(
      "2030-01-01T00:00:00.000Z",
    );

    const replaced = await leases.replaceNamespacedLease({
      name: "leader",
      namespace,
      body: lease("replica-b", read.metadata?.resourceVersion),
    });
    expect(replaced.spec?.holderIdentity).toBe("replica-b");
    expect(replaced.metadata?.resourceVersion).not.toBe(read.metadata?.resourceVersion);
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);
    expect(api.requests.leases).toBe(3);
  });

  it("answers 409 Conflict to a replace with a stale resourceVersion", async () => {
    const created = await leases.createNamespacedLease({ namespace, body: lease("a") });
    await leases.replaceNamespacedLease({
      name: "leader",
      namespace,
      body: lease("b", created.metadata?.resourceVersion),
    });
    const stale = leases.replaceNamespacedLease({
      name: "leader",
      namespace,
      body: lease("c", created.metadata?.resourceVersion),
    });
    await expect(stale).rejects.toMatchObject({ code: 409 });
    expect((await leases.readNamespacedLease({ name: "leader", namespace })).spec?.holderIdentity).toBe("b");
  });

  it("answers 409 AlreadyExists to a second create and 404 for a missing lease", async () => {
    await leases.createNamespacedLease({ namespace, body: lease("a") });
    await expect(leases.createNamespacedLease({ namespace, body: lease("b") })).rejects.toMatchObject({
      code: 409,
    });
    await expect(leases.readNamespacedLease({ name: "missing", namespace })).rejects.toMatchObject({
      code: 404,
    });
  });

  it("keeps leases per namespace and lists them", async () => {
    await leases.createNamespacedLease({ namespace, body: lease("a") });
    await expect(leases.readNamespacedLease({ name: "leader", namespace: "other" })).rejects.toMatchObject({
      code: 404,
    });
    const list = await leases.listNamespacedLease({ namespace });
    expect(list.items.map((item) => item.spec?.holderIdentity)).toEqual(["a"]);
    expect((await leases.listNamespacedLease({ namespace: "other" })).items).toEqual([]);
  });

  it("answers 400 when the body names another lease than the URL", async () => {
    const body = { ...lease("a"), metadata: { name: "other", namespace } };
    await expect(leases.replaceNamespacedLease({ name: "leader", namespace, body })).rejects.toMatchObject({
      code: 400,
    });
  });

  it("authorizes lease access of a non-admin caller per namespace", async () => {
    api.tokens.set("replica-token", { user: "system:serviceaccount:operator-system:operator" });
    const client = api.kubeConfig({ token: "replica-token" }).makeApiClient(CoordinationV1Api);
    await expect(client.createNamespacedLease({ namespace, body: lease("a") })).rejects.toMatchObject({
      code: 403,
    });
    api.rules.allow({
      user: "system:serviceaccount:operator-system:operator",
      resourceAttributes: { group: "coordination.k8s.io", resource: "leases", verb: "*", namespace },
    });
    await expect(client.createNamespacedLease({ namespace, body: lease("a") })).resolves.toMatchObject({
      spec: { holderIdentity: "a" },
    });
    await expect(
      client.readNamespacedLease({ name: "leader", namespace: "kube-system" }),
    ).rejects.toMatchObject({
      code: 403,
    });
  });
});
