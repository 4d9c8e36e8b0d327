import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

const group = "example.pluginframework.io";
const version = "v1alpha1";
const plural = "dnsrecords";
const namespace = "default";
const ref = { group, version, plural, namespace };

let api: FakeKubeApi;
let custom: CustomObjectsApi;

interface Obj {
  metadata: {
    name: string;
    resourceVersion: string;
    generation: number;
    uid: string;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

beforeEach(async () => {
  api = await startFakeKubeApi();
  api.resources.register({ group, version, plural, kind: "DNSRecord" });
  custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
});

afterEach(async () => {
  await api.close();
});

function record(name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { apiVersion: `${group}/${version}`, kind: "DNSRecord", metadata: { name, ...extra }, spec };
}

const create = async (name: string, spec: Record<string, unknown> = { value: "1.2.3.4" }, extra = {}) =>
  (await custom.createNamespacedCustomObject({ ...ref, body: record(name, spec, extra) })) as Obj;
const get = async (name: string) => (await custom.getNamespacedCustomObject({ ...ref, name })) as Obj;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("fake Kubernetes API: custom resources through CustomObjectsApi", () => {
  it("creates, reads, lists and replaces an object with resourceVersion and generation", async () => {
    const created = await create("www");
    expect(created.metadata).toMatchObject({ name: "www", generation: 1 });
    expect(created.metadata.uid).toBeTruthy();
    expect(await get("www")).toEqual(created);
    const list = (await custom.listNamespacedCustomObject(ref)) as {
      items: Obj[];
      metadata: { resourceVersion: string };
    };
    expect(list.items.map((item) => item.metadata.name)).toEqual(["www"]);
    expect(list.metadata.resourceVersion).toBe(created.metadata.resourceVersion);

    const replaced = (await custom.replaceNamespacedCustomObject({
      ...ref,
      name: "www",
      body: { ...created, spec: { value: "5.6.7.8" } },
    })) as Obj;
    expect(replaced.spec).toEqual({ value: "5.6.7.8" });
    expect(replaced.metadata.generation).toBe(2);
    expect(Number(replaced.metadata.resourceVersion)).toBeGreaterThan(
      Number(created.metadata.resourceVersion),
    );
    expect(replaced.metadata.uid).toBe(created.metadata.uid);
  });

  it("answers 409 Conflict to a replace with a stale resourceVersion and keeps the newer write", async () => {
    const created = await create("www");
    await custom.replaceNamespacedCustomObject({
      ...ref,
      name: "www",
      body: { ...created, spec: { value: "b" } },
    });
    await expect(
      custom.replaceNamespacedCustomObject({
        ...ref,
        name: "www",
        body: { ...created, spec: { value: "c" } },
      }),
    ).rejects.toMatchObject({ code: 409 });
    expect((await get("www")).spec).toEqual({ value: "b" });
  });

  it("refuses a replace without a resourceVersion (422), a second create (409) and a missing object (404)", async () => {
    await create("www");
    await expect(
      custom.replaceNamespacedCustomObject({ ...ref, name: "www", body: record("www", { value: "x" }) }),
    ).rejects.toMatchObject({ code: 422 });
    await expect(create("www")).rejects.toMatchObject({ code: 409 });
    await expect(get("missing")).rejects.toMatchObject({ code: 404 });
    await expect(custom.deleteNamespacedCustomObject({ ...ref, name: "missing" })).rejects.toMatchObject({
      code: 404,
    });
  });

  it("bumps generation on spec changes only, not on metadata or a no-op write", async () => {
    const created = await create("www");
    const labelled = (await custom.patchNamespacedCustomObject(
      { ...ref, name: "www", body: { metadata: { labels: { team: "a" } } } },
      mergePatch,
    )) as Obj;
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    const same = (await custom.patchNamespacedCustomObject(
      { ...ref, name: "www", body: { spec: { value: "1.2.3.4" } } },
      mergePatch,
    )) as Obj;
    expect(same.metadata.resourceVersion).toBe(labelled.metadata.resourceVersion);
    const changed = (await custom.patchNamespacedCustomObject(
      { ...ref, name: "www", body: { spec: { value: "9.9.9.9", ttl: 60 } } },
      mergePatch,
    )) as Obj;
    expect(changed.metadata.generation).toBe(2);
    expect(changed.spec).toEqual({ value: "9.9.9.9", ttl: 60 });
  });

  it("applies a JSON patch (client-node's default) and answers 422 when its test fails", async () => {
    await create("www", { value: "a", ttl: 5 });
    const patched = (await custom.patchNamespacedCustomObject({
      ...ref,
      name: "www",
      body: [
        { op: "test", path: "/spec/value", value: "a" },
        { op: "replace", path: "/spec/value", value: "b" },
        { op: "remove", path: "/spec/ttl" },
      ],
    })) as Obj;
    expect(patched.spec).toEqual({ value: "b" });
    await expect(
      custom.patchNamespacedCustomObject({
        ...ref,
        name: "www",
        body: [{ op: "test", path: "/spec/value", value: "a" }],
      }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it("conflicts on a merge patch that carries a stale resourceVersion", async () => {
    const created = await create("www");
    await custom.patchNamespacedCustomObject(
      { ...ref, name: "www", body: { spec: { value: "b" } } },
      mergePatch,
    );
    await expect(
      custom.patchNamespacedCustomObject(
        {
          ...ref,
          name: "www",
          body: { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { value: "c" } },
        },
        mergePatch,
      ),
    ).rejects.toMatchObject({ code: 409 });
  });

  it("changes status only through the status subresource, which ignores spec", async () => {
    const created = await create("www", { value: "a" });
    expect(created.status).toBeUndefined();
    // The main resource ignores status...
    const ignored = (await custom.replaceNamespacedCustomObject({
      ...ref,
      name: "www",
      body: { ...created, status: { ready: true } },
    })) as Obj;
    expect(ignored.status).toBeUndefined();
    // ...and /status ignores spec, without bumping generation.
    const written = (await custom.replaceNamespacedCustomObjectStatus({
      ...ref,
      name: "www",
      body: { ...ignored, spec: { value: "changed" }, status: { ready: true, observedGeneration: 1 } },
    })) as Obj;
    expect(written.status).toEqual({ ready: true, observedGeneration: 1 });
    expect(written.spec).toEqual({ value: "a" });
    expect(written.metadata.generation).toBe(1);
    const patched = (await custom.patchNamespacedCustomObjectStatus(
      { ...ref, name: "www", body: { status: { recordId: "r-1" } } },
      mergePatch,
    )) as Obj;
    expect(patched.status).toEqual({ ready: true, observedGeneration: 1, recordId: "r-1" });
    expect((await custom.getNamespacedCustomObjectStatus({ ...ref, name: "www" })) as Obj).toEqual(patched);
    await expect(
      custom.replaceNamespacedCustomObjectStatus({ ...ref, name: "www", body: written }),
    ).rejects.toMatchObject({ code: 409 });
  });

  it("holds an object with finalizers until they are removed, then deletes it", async () => {
    const created = await create("www", { value: "a" }, { finalizers: ["example.io/cleanup"] });
    const marked = (await custom.deleteNamespacedCustomObject({ ...ref, name: "www" })) as Obj;
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(marked.metadata.generation).toBe(created.metadata.generation + 1);
    const still = await get("www");
    expect(still.metadata.finalizers).toEqual(["example.io/cleanup"]);
    // No new finalizer once deletion started.
    await expect(
      custom.patchNamespacedCustomObject(
        { ...ref, name: "www", body: { metadata: { finalizers: ["example.io/cleanup", "other"] } } },
        mergePatch,
      ),
    ).rejects.toMatchObject({ code: 422 });
    await custom.patchNamespacedCustomObject(
      { ...ref, name: "www", body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    await expect(get("www")).rejects.toMatchObject({ code: 404 });
  });

  it("deletes an object without finalizers at once, honouring a uid precondition", async () => {
    await create("www");
    await expect(
      custom.deleteNamespacedCustomObject({ ...ref, name: "www", body: { preconditions: { uid: "other" } } }),
    ).rejects.toMatchObject({ code: 409 });
    const status = (await custom.deleteNamespacedCustomObject({ ...ref, name: "www" })) as { status: string };
    expect(status.status).toBe("Success");
    await expect(get("www")).rejects.toMatchObject({ code: 404 });
  });

  it("lists across namespaces and keeps namespaces apart", async () => {
    await create("a");
    await custom.createNamespacedCustomObject({ ...ref, namespace: "other", body: record("b", {}) });
    const all = (await custom.listClusterCustomObject({ group, version, plural })) as { items: Obj[] };
    expect(all.items.map((item) => item.metadata.name).sort()).toEqual(["a", "b"]);
    await expect(
      custom.getNamespacedCustomObject({ ...ref, namespace: "other", name: "a" }),
    ).rejects.toMatchObject({
      code: 404,
    });
  });

  it("answers 404 for an unregistered type and authorizes per verb and subresource", async () => {
    await expect(custom.listNamespacedCustomObject({ ...ref, plural: "unknowns" })).rejects.toMatchObject({
      code: 404,
    });
    api.tokens.set("ctrl", { user: "controller" });
    const client = api.kubeConfig({ token: "ctrl" }).makeApiClient(CustomObjectsApi);
    await create("www");
    await expect(client.getNamespacedCustomObject({ ...ref, name: "www" })).rejects.toMatchObject({
      code: 403,
    });
    api.rules.allow({ user: "controller", resourceAttributes: { group, resource: plural, verb: "get" } });
    await expect(client.getNamespacedCustomObject({ ...ref, name: "www" })).resolves.toBeTruthy();
    await expect(
      client.patchNamespacedCustomObjectStatus({ ...ref, name: "www", body: { status: {} } }, mergePatch),
    ).rejects.toMatchObject({ code: 403 });
  });
});
