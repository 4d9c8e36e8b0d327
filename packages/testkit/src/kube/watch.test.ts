import {
  CustomObjectsApi,
  type Informer,
  type KubernetesObject,
  makeInformer,
  Watch,
} from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

const group = "example.pluginframework.io";
const version = "v1alpha1";
const plural = "dnsrecords";
const namespace = "default";
const ref = { group, version, plural, namespace };
const path = `/apis/${group}/${version}/namespaces/${namespace}/${plural}`;

let api: FakeKubeApi;
let custom: CustomObjectsApi;
let informer: Informer<KubernetesObject> | undefined;

beforeEach(async () => {
  api = await startFakeKubeApi({ watchHistorySize: 5 });
  api.resources.register({ group, version, plural, kind: "DNSRecord" });
  custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
});

afterEach(async () => {
  await informer?.stop();
  informer = undefined;
  await api.close();
});

const create = (name: string, value = "a") =>
  custom.createNamespacedCustomObject({
    ...ref,
    body: { apiVersion: `${group}/${version}`, kind: "DNSRecord", metadata: { name }, spec: { value } },
  }) as Promise<KubernetesObject & { spec: { value: string } }>;

const setValue = (name: string, value: string) =>
  custom.patchNamespacedCustomObject({ ...ref, name, body: [{ op: "replace", path: "/spec/value", value }] });

/** An informer whose events are recorded as "verb name value" lines, with a waiter for a line. */
function recordInformer(listPath = path) {
  const events: string[] = [];
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  const kc = api.kubeConfig();
  const client = kc.makeApiClient(CustomObjectsApi);
  let lists = 0;
  const started = makeInformer(kc, listPath, () => {
    lists += 1;
    return listPath === path
      ? client.listNamespacedCustomObject(ref)
      : client.listClusterCustomObject({ group, version, plural });
  });
  informer = started;
  const push = (verb: string) => (object: KubernetesObject) => {
    const line = `${verb} ${object.metadata?.name} ${(object as { spec?: { value?: string } }).spec?.value}`;
    events.push(line);
    for (const waiter of waiters.filter((w) => w.line === line)) waiter.resolve();
  };
  started.on("add", push("add"));
  started.on("update", push("update"));
  started.on("delete", push("delete"));
  return {
    informer: started,
    events,
    lists: () => lists,
    seen: (line: string) =>
      events.includes(line)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ line, resolve })),
  };
}

describe("fake Kubernetes API: watch, as client-node's informer sees it", () => {
  it("delivers the initial list, then ADDED, MODIFIED and DELETED in order", async () => {
    await create("before");
    const watched = recordInformer();
    await watched.informer.start();
    await watched.seen("add before a");
    await create("www");
    await setValue("www", "b");
    await custom.deleteNamespacedCustomObject({ ...ref, name: "www" });
    await watched.seen("delete www b");
    expect(watched.events).toEqual(["add before a", "add www a", "update www b", "delete www b"]);
  });

  it("resumes from its resourceVersion after a dropped watch, missing nothing and relisting never", async () => {
    const watched = recordInformer();
    await watched.informer.start();
    await create("www");
    await watched.seen("add www a");
    expect(api.faults.dropWatches({ resource: plural })).toBe(1);
    // Changes made while no watch is open come back through the resumed watch.
    await setValue("www", "b");
    await create("other");
    await watched.seen("add other a");
    expect(watched.events).toEqual(["add www a", "update www b", "add other a"]);
    expect(watched.lists()).toBe(1);
  });

  it("answers a resumed watch past the history window with 410, and the informer relists", async () => {
    const watched = recordInformer();
    await watched.informer.start();
    await create("www");
    await watched.seen("add www a");
    await watched.informer.stop();
    // More changes than the history keeps (5) while the informer is away.
    for (let i = 1; i <= 6; i++) await setValue("www", `v${i}`);
    await watched.informer.start();
    await watched.seen("update www v6");
    expect(watched.lists()).toBe(2);
    // The intermediate values are gone: the informer only sees the state after the relist.
    expect(watched.events).toEqual(["add www a", "update www v6"]);
  });

  it("answers 410 after compactHistory to a watch from before it", async () => {
    const first = await create("r0");
    await setValue("r0", "b");
    api.resources.compactHistory();
    const events: string[] = [];
    await new Promise<unknown>((resolve) => {
      void new Watch(api.kubeConfig()).watch(
        path,
        { resourceVersion: first.metadata?.resourceVersion },
        (type, object: { code?: number }) => events.push(`${type} ${object.code}`),
        resolve,
      );
    });
    expect(events).toEqual(["ERROR 410"]);
  });

  it("streams a 410 ERROR event to a raw watch from a resourceVersion past the history window", async () => {
    const first = await create("r0");
    for (let i = 1; i <= 6; i++) await setValue("r0", `v${i}`);
    const events: Array<{ type: string; object: { code?: number; reason?: string } }> = [];
    const done = new Promise<unknown>((resolve) => {
      void new Watch(api.kubeConfig()).watch(
        path,
        { resourceVersion: first.metadata?.resourceVersion },
        (type, object) => events.push({ type, object }),
        resolve,
      );
    });
    await done;
    expect(events).toEqual([
      { type: "ERROR", object: expect.objectContaining({ code: 410, reason: "Expired" }) },
    ]);
  });

  it("replays the changes after a recent resourceVersion to a raw watch, then streams live ones", async () => {
    const first = await create("r0");
    await setValue("r0", "b");
    const types: string[] = [];
    let controller: AbortController | undefined;
    const seen = new Promise<void>((resolve) => {
      void new Watch(api.kubeConfig())
        .watch(
          path,
          { resourceVersion: first.metadata?.resourceVersion },
          (type, object: KubernetesObject & { spec: { value: string } }) => {
            types.push(`${type} ${object.spec.value}`);
            if (types.length === 2) resolve();
          },
          () => {},
        )
        .then((c) => {
          controller = c;
        });
    });
    while (controller === undefined) await new Promise((r) => setImmediate(r));
    await create("r1", "live");
    await seen;
    controller.abort();
    expect(types).toEqual(["MODIFIED b", "ADDED live"]);
  });

  it("watches across namespaces", async () => {
    const watched = recordInformer(`/apis/${group}/${version}/${plural}`);
    await watched.informer.start();
    await custom.createNamespacedCustomObject({
      ...ref,
      namespace: "other",
      body: {
        apiVersion: `${group}/${version}`,
        kind: "DNSRecord",
        metadata: { name: "x" },
        spec: { value: "o" },
      },
    });
    await watched.seen("add x o");
  });

  it("ends a watch after timeoutSeconds, as the API server does", async () => {
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(api.kubeConfig()).watch(path, { timeoutSeconds: 1 }, () => {}, resolve);
    });
    await expect(ended).resolves.toBeNull();
  });
});
