import {
  CoordinationV1Api,
  CustomObjectsApi,
  Observable,
  type ObservableMiddleware,
} from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

const namespace = "opf-system";
let api: FakeKubeApi;

beforeEach(async () => {
  api = await startFakeKubeApi();
  for (const user of ["replica-a", "replica-b"]) {
    api.tokens.set(user, { user });
    api.rules.allow({
      user,
      resourceAttributes: { group: "coordination.k8s.io", resource: "leases", verb: "*" },
    });
  }
});

afterEach(async () => {
  await api.close();
});

const leases = (token: string) => api.kubeConfig({ token }).makeApiClient(CoordinationV1Api);
const body = (holder: string) => ({
  metadata: { name: "leader", namespace },
  spec: { holderIdentity: holder },
});

describe("fake Kubernetes API: fault injection", () => {
  it("fails the next N matching requests of one caller with the given status, then serves again", async () => {
    const a = leases("replica-a");
    const b = leases("replica-b");
    await a.createNamespacedLease({ namespace, body: body("a") });
    const fault = api.faults.failNext({
      resource: "leases",
      verb: "get",
      user: "replica-a",
      count: 2,
      httpStatus: 503,
    });
    // The other caller and the other verbs are not affected.
    await expect(b.readNamespacedLease({ name: "leader", namespace })).resolves.toBeTruthy();
    await expect(a.listNamespacedLease({ namespace })).resolves.toBeTruthy();
    await expect(a.readNamespacedLease({ name: "leader", namespace })).rejects.toMatchObject({ code: 503 });
    await expect(a.readNamespacedLease({ name: "leader", namespace })).rejects.toMatchObject({ code: 503 });
    await expect(a.readNamespacedLease({ name: "leader", namespace })).resolves.toBeTruthy();
    expect(fault.hits).toBe(2);
  });

  it("hangs matching requests until the fault is cleared, which drops them", async () => {
    const a = leases("replica-a");
    await a.createNamespacedLease({ namespace, body: body("a") });
    const fault = api.faults.hangNext({
      resource: "leases",
      verb: "update",
      count: Number.POSITIVE_INFINITY,
    });
    const read = await a.readNamespacedLease({ name: "leader", namespace });
    const hung = a.replaceNamespacedLease({ name: "leader", namespace, body: read });
    const outcome = Promise.race([
      hung.then(
        () => "answered",
        () => "failed",
      ),
      Promise.resolve("pending"),
    ]);
    await expect.poll(() => fault.hits).toBe(1);
    expect(await outcome).toBe("pending");
    fault.clear();
    await expect(hung).rejects.toThrow();
    // The lease was not written by the dropped request.
    expect((await a.readNamespacedLease({ name: "leader", namespace })).metadata?.resourceVersion).toBe(
      read.metadata?.resourceVersion,
    );
  });

  it("releases a hung request when the client aborts it", async () => {
    const a = leases("replica-a");
    api.faults.hangNext({ resource: "leases" });
    const controller = new AbortController();
    // client-node 1.x takes a per-request AbortSignal only through a middleware.
    const withSignal: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(controller.signal);
        return new Observable(Promise.resolve(context));
      },
      post: (context) => new Observable(Promise.resolve(context)),
    };
    const hung = a.listNamespacedLease(
      { namespace },
      { middleware: [withSignal], middlewareMergeStrategy: "append" },
    );
    await expect.poll(() => api.connections()).toBeGreaterThan(0);
    controller.abort();
    await expect(hung).rejects.toThrow(/abort/i);
    await expect.poll(() => api.connections()).toBe(0);
  });

  it("applies to custom resources by resource, verb and subresource", async () => {
    api.resources.register({ group: "g.io", version: "v1", plural: "things", kind: "Thing" });
    const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
    const ref = { group: "g.io", version: "v1", plural: "things", namespace };
    await custom.createNamespacedCustomObject({ ...ref, body: { metadata: { name: "t" }, spec: {} } });
    api.faults.failNext({ resource: "things", subresource: "status", httpStatus: 500 });
    await expect(custom.getNamespacedCustomObject({ ...ref, name: "t" })).resolves.toBeTruthy();
    await expect(custom.getNamespacedCustomObjectStatus({ ...ref, name: "t" })).rejects.toMatchObject({
      code: 500,
    });
  });
});
