// The example DNS controller against the fake API and real plugin streams:
// create, update, delete through the finalizer, a plugin missing then
// arriving, malformed records, watch failures, and 200 records at once.
import { RecordType } from "@operator-plugin-framework/proto/example/dns";
import { quietLogger } from "@operator-plugin-framework/registry";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import type { FakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { runController } from "@operator-plugin-framework-examples/operator/controller";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DnsPlugin,
  dnsRecords,
  isReady,
  namespace,
  ready,
  startDnsApi,
  startDnsPlugin,
} from "./dns-harness.js";

let api: FakeKubeApi;
let operator: TestServer;
let stopController: AbortController;
let controller: Promise<void>;
let records: ReturnType<typeof dnsRecords>;
const plugins: DnsPlugin[] = [];

beforeEach(async () => {
  api = await startDnsApi();
  operator = await startTestServer();
  stopController = new AbortController();
  const kubeConfig = api.kubeConfig();
  controller = runController(
    { kubeConfig, namespace, registry: operator.registry, logger: quietLogger, callTimeoutMs: 2_000 },
    stopController.signal,
  );
  records = dnsRecords(kubeConfig);
  await records.started;
});

afterEach(async () => {
  stopController.abort();
  await controller;
  await records.close();
  await Promise.all(plugins.splice(0).map((plugin) => plugin.connection.close()));
  await operator.close();
  await api.close();
});

async function plugin(name: string): Promise<DnsPlugin> {
  const started = await startDnsPlugin(name, [operator.target]);
  plugins.push(started);
  return started;
}

describe("example DNS controller", () => {
  it("creates the provider record, reports Ready with its id, updates it on a spec change, deletes it through the finalizer", async () => {
    const aws = await plugin("aws");
    await records.create("www", { provider: "aws", name: "www.example.com", type: "A", value: "192.0.2.1" });
    await records.waitFor(["www"], isReady, "Ready");

    const made = records.cached("www")!;
    expect(made.metadata?.finalizers).toContain("example.pluginframework.io/provider-record");
    expect(made.status).toMatchObject({ provider: "aws", recordId: "aws-1", observedGeneration: 1 });
    expect(ready(made)).toMatchObject({ status: "True", reason: "Reconciled", observedGeneration: 1 });
    expect(ready(made)?.lastTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(aws.zone.records()).toMatchObject([
      {
        id: "aws-1",
        name: "www.example.com",
        type: RecordType.RECORD_TYPE_A,
        value: "192.0.2.1",
        owner: made.metadata?.uid,
      },
    ]);

    await records.setSpec("www", { value: "192.0.2.2" });
    await records.waitFor(
      ["www"],
      (r) => isReady(r) && r?.metadata?.generation === 2,
      "Ready at generation 2",
    );
    expect(aws.zone.records()).toMatchObject([{ id: "aws-1", value: "192.0.2.2", revision: 2 }]);
    expect(aws.zone.calls).toEqual({ create: 1, update: 1, delete: 0 });

    await records.delete("www");
    await records.waitFor(["www"], (r) => r === undefined, "deleted");
    expect(aws.zone.records()).toEqual([]);
    expect(aws.zone.calls.delete).toBe(1);
  });

  it("reports PluginUnavailable for a provider with no plugin, and reconciles as soon as it registers", async () => {
    await plugin("aws");
    await records.create("api", {
      provider: "gcp",
      name: "api.example.com",
      type: "CNAME",
      value: "lb.example.net",
    });
    await records.waitFor(["api"], (r) => ready(r)?.reason === "PluginUnavailable", "PluginUnavailable");
    expect(ready(records.cached("api"))).toMatchObject({ status: "False", observedGeneration: 1 });
    expect(ready(records.cached("api"))?.message).toContain(
      'plugin "gcp" is not registered (registered: aws)',
    );

    // No polling: the registry's event for "gcp" requeues the record.
    const gcp = await plugin("gcp");
    await records.waitFor(["api"], isReady, "Ready");
    expect(records.cached("api")?.status?.recordId).toBe("gcp-1");
    expect(gcp.zone.records()).toMatchObject([{ name: "api.example.com", value: "lb.example.net" }]);
  });

  it("keeps a deleted record until its plugin is back to delete the provider record", async () => {
    const aws = await plugin("aws");
    await records.create("tmp", { provider: "aws", name: "tmp.example.com", type: "TXT", value: "hello" });
    await records.waitFor(["tmp"], isReady, "Ready");
    const zone = aws.zone;
    await plugins.pop()!.connection.close();
    await records.delete("tmp");
    await records.waitFor(["tmp"], (r) => ready(r)?.reason === "PluginUnavailable", "waiting for its plugin");
    expect(records.cached("tmp")?.metadata?.deletionTimestamp).toBeTruthy();
    expect(zone.records()).toHaveLength(1);

    const back = await startDnsPlugin("aws", [operator.target], zone);
    plugins.push(back);
    await records.waitFor(["tmp"], (r) => r === undefined, "deleted");
    expect(zone.records()).toEqual([]);
  });

  it("gives a malformed record Ready=False with a reason and a message, once, without calling a plugin", async () => {
    const aws = await plugin("aws");
    const bad = {
      "no-value": { provider: "aws", name: "a.example.com", type: "A" },
      "bad-name": { provider: "aws", name: "not a name", type: "A", value: "192.0.2.1" },
      "bad-type": { provider: "aws", name: "b.example.com", type: "MX", value: "mail" },
      "bad-ip": { provider: "aws", name: "c.example.com", type: "A", value: "300.1.1.1" },
      "bad-provider": { provider: "AWS!", name: "d.example.com", type: "A", value: "192.0.2.1" },
    };
    for (const [name, spec] of Object.entries(bad)) await records.create(name, spec);
    const names = Object.keys(bad);
    await records.waitFor(names, (r) => ready(r)?.reason === "InvalidSpec", "InvalidSpec");
    const messages = names.map((name) => ready(records.cached(name))?.message);
    expect(messages).toEqual([
      "spec.value must be set; fix the spec",
      'spec.name "not a name" is not a fully qualified DNS name such as "www.example.com"; fix the spec',
      'spec.type "MX" is not one of A, AAAA, CNAME, TXT; fix the spec',
      'spec.value "300.1.1.1" is not an IPv4 address (type A); fix the spec',
      'spec.provider "AWS!" is not a plugin name (a DNS-1123 label such as "aws"); fix the spec',
    ]);
    const versions = names.map((name) => records.cached(name)?.metadata?.resourceVersion);

    // A good record created after them is reconciled; the bad ones were not written again (no hot loop).
    await records.create("good", {
      provider: "aws",
      name: "good.example.com",
      type: "A",
      value: "192.0.2.9",
    });
    await records.waitFor(["good"], isReady, "Ready");
    expect(names.map((name) => records.cached(name)?.metadata?.resourceVersion)).toEqual(versions);
    expect(aws.zone.calls.create).toBe(1);

    // Fixing the spec is enough.
    await records.setSpec("no-value", { value: "192.0.2.3" });
    await records.waitFor(["no-value"], isReady, "Ready once fixed");
  });

  it("lists again after a watch error or a 410, and misses nothing meanwhile", async () => {
    const aws = await plugin("aws");
    await records.create("one", { provider: "aws", name: "one.example.com", type: "A", value: "192.0.2.1" });
    await records.waitFor(["one"], isReady, "Ready");

    // The watch is cut and the next list fails: the controller backs off and lists again.
    api.faults.failNext({ resource: "dnsrecords", verb: "list", httpStatus: 500 });
    api.faults.dropWatches({ resource: "dnsrecords", mode: "destroy" });
    await records.create("two", { provider: "aws", name: "two.example.com", type: "A", value: "192.0.2.2" });
    await records.waitFor(["two"], isReady, "Ready after a watch error");

    // History compacted: resuming the watch gets 410 Gone, and a fresh list follows.
    api.resources.compactHistory();
    api.faults.dropWatches({ resource: "dnsrecords", mode: "end" });
    await records.create("three", {
      provider: "aws",
      name: "three.example.com",
      type: "A",
      value: "192.0.2.3",
    });
    await records.waitFor(["three"], isReady, "Ready after a 410");
    expect(aws.zone.calls.create).toBe(3);
  });

  it("reconciles 200 records with no lost update and one CreateRecord each", async () => {
    const aws = await plugin("aws");
    const names = Array.from({ length: 200 }, (_, i) => `r${i}`);
    const ip = (i: number, v: number) => `10.${v}.${Math.floor(i / 256)}.${i % 256}`;
    await Promise.all(
      names.map((name, i) =>
        records.create(name, { provider: "aws", name: `${name}.example.com`, type: "A", value: ip(i, 0) }),
      ),
    );
    await records.waitFor(names, isReady, "Ready", 90_000);
    expect(aws.zone.calls.create).toBe(200);

    // Two updates per record, back to back, racing the controller: the last one must win.
    for (const v of [1, 2])
      await Promise.all(names.map((name, i) => records.setSpec(name, { value: ip(i, v) })));
    await records.waitFor(
      names,
      (r) => isReady(r) && r?.spec?.value?.startsWith("10.2.") === true,
      "Ready with the last value",
      90_000,
    );

    const zone = new Map(aws.zone.records().map((record) => [record.name, record.value]));
    expect(zone.size).toBe(200);
    expect(names.map((name) => zone.get(`${name}.example.com`))).toEqual(names.map((_, i) => ip(i, 2)));
    expect(aws.zone.calls.create).toBe(200);
    for (const name of names) expect(records.cached(name)?.status?.observedGeneration).toBe(3);
  }, 200_000);
});
