// The example operator as real processes: killed in the middle of a
// reconcile (after the provider made the record, before the operator saved
// its id), a fresh replica takes the Lease and finishes the work without a
// duplicate record.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection, quietLogger } from "@operator-plugin-framework/client";
import {
  type CreateRecordRequest,
  type CreateRecordResponse,
  DnsProviderServiceService,
  ZoneChange,
} from "@operator-plugin-framework/proto/example/dns";
import type { FakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { createDnsProvider } from "@operator-plugin-framework-examples/plugin/dns-provider";
import { createInMemoryZone } from "@operator-plugin-framework-examples/plugin/dns-zone";
import { afterEach, beforeEach, expect, it } from "vitest";
import { dnsRecords, isReady, namespace, startDnsApi } from "./dns-harness.js";

const operatorMain = fileURLToPath(new URL("../../../examples/operator/src/main.ts", import.meta.url));
const LEASE = { durationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

let api: FakeKubeApi;
let dir: string;
let kubeconfig: string;
const children = new Set<ChildProcess>();
let plugin: PluginConnection | undefined;

beforeEach(async () => {
  api = await startDnsApi();
  dir = mkdtempSync(join(tmpdir(), "opf-dns-"));
  kubeconfig = join(dir, "kubeconfig");
  await api.writeKubeconfig(kubeconfig);
});

afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(
    [...children].map((child) => (child.exitCode === null ? once(child, "exit") : undefined)),
  );
  await plugin?.close();
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One operator replica as its own process, with its JSON log lines awaitable. */
function startOperator(identity: string) {
  const child = spawn(
    process.execPath,
    [
      ...["--conditions=opf-source", "--import", "tsx", operatorMain],
      ...[
        "--listen",
        `unix://${join(dir, `${identity}.sock`)}`,
        "--kubeconfig",
        kubeconfig,
        "--allow-unauthenticated",
        // Replicas share this machine: no fixed probe, metrics or admin port.
        ...["--health-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"],
        ...["--admin-listen", "127.0.0.1:0"],
      ],
      ...["--namespace", namespace, "--identity", identity, "--call-timeout-ms", "20000"],
      ...[
        "--lease-duration-ms",
        String(LEASE.durationMs),
        "--renew-deadline-ms",
        String(LEASE.renewDeadlineMs),
      ],
      ...["--retry-period-ms", String(LEASE.retryPeriodMs), "--exit-with-parent"],
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines: { msg?: string }[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (text) => {
    try {
      lines.push(JSON.parse(text));
    } catch {
      return;
    }
    for (const waiter of waiters) waiter();
  });
  return {
    child,
    /** Resolves once a log line has this `msg`; rejects if the process exits first. */
    waitFor: (msg: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!lines.some((line) => line.msg === msg)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        child.once("exit", () => reject(new Error(`${identity} exited before logging "${msg}"`)));
        check();
      }),
  };
}

it("a replica killed mid-reconcile is replaced, and the record is made once", async () => {
  const records = dnsRecords(api.kubeConfig());
  await records.started;
  const zone = createInMemoryZone("aws");
  const provider = createDnsProvider(zone, quietLogger);
  // The first CreateRecord reaches the zone, but its answer never leaves:
  // the operator dies before it can save the record id.
  let held = false;
  const createRecord = (
    call: ServerUnaryCall<CreateRecordRequest, CreateRecordResponse>,
    callback: sendUnaryData<CreateRecordResponse>,
  ) => {
    if (held) return provider.createRecord(call, callback);
    held = true;
    provider.createRecord(call, () => {});
  };
  plugin = connectPlugin({
    name: "aws",
    target: [`unix://${join(dir, "op-a.sock")}`, `unix://${join(dir, "op-b.sock")}`],
    services: [[DnsProviderServiceService, { ...provider, createRecord }]],
    backoff: { initialMs: 50, maxMs: 250 },
    logger: quietLogger,
  });

  const a = startOperator("op-a");
  await a.waitFor("controller: started");
  const firstCreate = new Promise<void>((resolve) => {
    const stop = zone.watch((event) => {
      if (event.change !== ZoneChange.ZONE_CHANGE_CREATED) return;
      stop();
      resolve();
    });
  });
  const names = ["a", "b", "c", "d", "e"];
  for (const name of names) {
    await records.create(name, {
      provider: "aws",
      name: `${name}.example.com`,
      type: "A",
      value: "192.0.2.1",
    });
  }
  await firstCreate;
  a.child.kill("SIGKILL");
  await once(a.child, "exit");

  // A new replica (a restarted pod) takes the Lease once it expires, and finishes.
  const killedAt = Date.now();
  const b = startOperator("op-b");
  await b.waitFor("leader: started leading");
  expect(Date.now() - killedAt).toBeLessThan(30_000);
  await records.waitFor(names, isReady, "Ready after the restart", 30_000);

  const zoneRecords = zone.records();
  expect(zoneRecords.map((record) => record.name).sort()).toEqual(names.map((name) => `${name}.example.com`));
  for (const name of names) {
    const record = records.cached(name)!;
    const inZone = zoneRecords.find((r) => r.owner === record.metadata?.uid);
    expect(record.status?.recordId).toBe(inZone?.id);
  }
  await records.close();
}, 90_000);
