// The demo: the example DNS operator (two replicas, one leading) and the DNS
// provider plugins "aws" and "gcp" as separate processes, behind fake
// kube-rbac-proxies and a fake Kubernetes API that serves DNSRecords. It
// shows records reconciled through plugins, a plugin arriving late, a
// finalizer, an impostor refused and a leader failover, then stops
// everything. Exits 0 on success, non-zero on any failure, and never leaves a
// child process behind.
import { fileURLToPath } from "node:url";
import { type Child, killAll, startChild } from "./child.js";
import { type DemoCluster, OPERATOR_NAMESPACE, startDemoCluster } from "./fake-cluster.js";
import { metricsExcerpt, opf, shellLine } from "./observability.js";
import { describe, isReady, type RecordClient, ready, watchRecords } from "./records.js";
import { formatTrace, traceOfCall } from "./trace-tree.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const operatorMain = fileURLToPath(new URL("../../operator/src/main.ts", import.meta.url));
const pluginMain = fileURLToPath(new URL("../../plugin/src/main.ts", import.meta.url));
const GUARD_MS = 120_000;
const PLUGINS = ["aws", "gcp"] as const;
const PERMISSION_DENIED = 7;
// Short on purpose, so the failover fits the demo; the defaults are 15 s / 10 s / 2 s.
const LEASE = { durationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
let cluster: DemoCluster | undefined;
let records: RecordClient | undefined;

const say = (text: string) => process.stdout.write(`${text}\n`);

// Every way out kills what is still running: the guard, a signal, an error, a normal end.
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`demo interrupted (${signal}); stopping everything`);
    killAll();
    process.exit(1);
  });
}
const guard = setTimeout(() => {
  process.stderr.write(`demo did not finish within ${GUARD_MS / 1000} s; killing everything\n`);
  killAll();
  process.exit(1);
}, GUARD_MS);

const startedAt = Date.now();
try {
  await runDemo();
  say(`\n✔ demo finished in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
} catch (err) {
  process.stderr.write(`\n✘ demo failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  clearTimeout(guard);
  killAll();
  await records?.close();
  await cluster?.close();
}

async function runDemo(): Promise<void> {
  say("▶ starting a Kubernetes API (testkit fake) with the DNSRecord CRD and the RBAC of examples/deploy");
  cluster = await startDemoCluster([...PLUGINS]);
  records = await watchRecords(cluster.adminKubeConfig(), OPERATOR_NAMESPACE);
  say(`  API on ${cluster.apiUrl}; plugins/aws and plugins/gcp may each register only their own name`);

  say("\n▶ starting two operator replicas, each behind its own kube-rbac-proxy (testkit fake)");
  const operators = ["operator-a", "operator-b"].map((identity) => startOperator(identity));
  const proxies: string[] = [];
  for (const operator of operators) {
    const listening = await operator.waitFor("the operator to listen", (l) => l.msg === "operator listening");
    const address = (listening.addresses as string[])[0]!;
    proxies.push(await cluster.startProxy(address));
    say(
      `  ${operator.label} (pid ${operator.process.pid}) serves plugins on ${address}, behind ${proxies.at(-1)}`,
    );
  }
  const leader = await firstLeader(operators);
  const follower = operators.find((operator) => operator !== leader)!;
  say(`  ${leader.label} holds the Lease and reconciles; ${follower.label} serves plugins and waits`);

  say("\n▶ starting plugin aws: one session with each replica");
  const plugins = new Map<string, Child>();
  // The impostor of a later step starts now, so its process start overlaps this one's.
  const impostor = startChild("aws(as gcp)", pluginMain, pluginArgs([proxies[0]!], "aws", "gcp"), root);
  plugins.set("aws", await startPlugin(proxies, "aws", "aws", operators));

  say('\n▶ step 1: a DNSRecord for provider "aws"');
  await records.create("www", { provider: "aws", name: "www.example.com", type: "A", value: "192.0.2.10" });
  const www = await records.waitFor("www", "Ready", isReady);
  say(`  kubectl get dnsrecord www → ${describe(www)}`);
  say(`  status.recordId=${www?.status?.recordId} (saved so the record is never created twice)`);

  say('\n▶ step 2: a DNSRecord for provider "gcp", whose plugin is not running');
  await records.create("api", {
    provider: "gcp",
    name: "api.example.com",
    type: "CNAME",
    value: "lb.example.net",
  });
  const waiting = await records.waitFor(
    "api",
    "PluginUnavailable",
    (r) => ready(r)?.reason === "PluginUnavailable",
  );
  say(`  kubectl get dnsrecord api → ${describe(waiting)}`);
  say("  starting plugin gcp …");
  plugins.set("gcp", await startPlugin(proxies, "gcp", "gcp", operators));
  const api = await records.waitFor("api", "Ready", isReady);
  say(`  requeued by the registry's "registered" event, no polling → ${describe(api)}`);

  say('\n▶ an impostor: a plugin with the gcp ServiceAccount\'s token tries to register as "aws"');
  const refused = await impostor.waitFor(
    "the impostor to be refused",
    (l) => l.msg === "plugin connection rejected" || l.msg === "plugin connection registered",
  );
  if (refused.code !== PERMISSION_DENIED)
    throw new Error(`expected PERMISSION_DENIED, got ${JSON.stringify(refused)}`);
  say(`  impostor (pid ${impostor.process.pid}) refused, through the proxy: PERMISSION_DENIED`);
  say(`    ${refused.details}`);
  impostor.process.kill("SIGTERM");
  await expectCleanExit(impostor);

  say("\n▶ step 3: deleting DNSRecord www; its finalizer deletes the provider record first");
  await records.delete("www");
  const deleted = await plugins
    .get("aws")!
    .waitFor("DeleteRecord", (l) => l.msg === "dns: record deleted" && l.id === www?.status?.recordId);
  await records.waitFor("www", "gone", (r) => r === undefined);
  say(
    `  plugin aws: DeleteRecord(${deleted.id}) → deleted=${deleted.deleted}; then the finalizer was removed`,
  );
  say("  kubectl get dnsrecord www → NotFound");

  say(`\n▶ step 4: killing the leader ${leader.label} (SIGKILL: no Lease release)`);
  const killedAt = Date.now();
  leader.process.kill("SIGKILL");
  await leader.exited;
  await follower.waitFor("the follower to lead", (l) => l.msg === "leader: started leading");
  const tookMs = Date.now() - killedAt;
  if (tookMs > LEASE.durationMs + LEASE.retryPeriodMs + 1_000)
    throw new Error(`takeover took ${tookMs} ms, more than the lease duration allows`);
  say(`  ${follower.label} took over after ${tookMs} ms (lease duration ${LEASE.durationMs} ms)`);
  await records.setValue("api", "lb2.example.net");
  const moved = await records.waitFor(
    "api",
    "Ready at generation 2",
    (r) => isReady(r) && r?.metadata?.generation === 2,
  );
  say(`  edited api → ${describe(moved)}`);
  const rejoined = follower.lines().filter((l) => l.msg === "registry: registered").length;
  if (rejoined !== PLUGINS.length)
    throw new Error(`expected ${PLUGINS.length} registrations at ${follower.label}, saw ${rejoined}`);
  say(`  ${follower.label} saw ${rejoined} registrations in all, none after the kill: no plugin reconnected`);

  await showObservability(follower, plugins.get("gcp")!);

  say("\n▶ shutting down gracefully (SIGTERM to each plugin, then to the operator)");
  for (const plugin of plugins.values()) plugin.process.kill("SIGTERM");
  for (const [name, plugin] of plugins) {
    await expectCleanExit(plugin);
    say(`  plugin ${name} exited 0`);
  }
  follower.process.kill("SIGTERM");
  await expectCleanExit(follower);
  say(`  ${follower.label} released the Lease, stopped and exited 0`);
}

/**
 * What an operator on call sees: /metrics over HTTP, the `opf` CLI through the
 * admin service, and the trace of the edit's reconcile across `operator` and `plugin`.
 */
async function showObservability(operator: Child, plugin: Child): Promise<void> {
  say(`\n▶ observability: what ${operator.label} shows an operator on call`);
  const listening = await operator.waitFor("the operator to listen", (l) => l.msg === "operator listening");
  const metrics = listening.metrics as string;
  const admin = listening.admin as string;
  // No --proto: the operator's admin service hands opf its descriptors.
  const call = ["call", "aws", "example.v1.DnsProviderService/DeleteRecord", "--data", '{"id":"aws-404"}'];
  // Independent of each other: fetched at once, printed in order.
  const [samples, plugins, reply] = await Promise.all([
    metricsExcerpt(metrics),
    opf(admin, ["plugins"]),
    opf(admin, call),
  ]);
  say(`  curl http://${metrics}/metrics (${samples.length} of its lines)`);
  for (const line of samples) say(`    ${line}`);
  say(`  opf --admin ${admin} plugins`);
  for (const line of plugins.trimEnd().split("\n")) say(`    ${line}`);
  say(`  opf --admin ${admin} ${shellLine(call)}   (a retried delete is harmless)`);
  say(`    ${reply.trimEnd()}`);
  // Both processes run with --trace-stdout: their span lines, kept out of the
  // printed output by child.ts, make one trace across the two processes.
  const trace = await traceOfCall(operator, plugin, "example.v1.DnsProviderService/UpdateRecord");
  say(`  one trace of the edit of api (spans the processes printed with --trace-stdout):`);
  for (const line of formatTrace(trace)) say(`    ${line}`);
}

function startOperator(identity: string): Child {
  return startChild(
    identity,
    operatorMain,
    [
      ...["--listen", "127.0.0.1:0", "--trust-proxy-headers", "--kubeconfig", cluster!.kubeconfigFile],
      ...["--namespace", OPERATOR_NAMESPACE, "--identity", identity, "--call-timeout-ms", "2000"],
      ...[
        "--lease-duration-ms",
        String(LEASE.durationMs),
        "--renew-deadline-ms",
        String(LEASE.renewDeadlineMs),
      ],
      ...["--retry-period-ms", String(LEASE.retryPeriodMs)],
      // Both replicas run on this machine: free ports each, not 8081, 8080 and 9091.
      ...["--health-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"],
      ...["--admin-listen", "127.0.0.1:0"],
      "--trace-stdout",
    ],
    root,
  );
}

/** The first replica to log that it leads. */
async function firstLeader(operators: Child[]): Promise<Child> {
  return Promise.race(
    operators.map((operator) =>
      operator.waitFor("a leader", (l) => l.msg === "leader: started leading").then(() => operator),
    ),
  );
}

/** Starts plugin `name` with ServiceAccount `account`'s token and waits until every replica registered it. */
async function startPlugin(
  proxies: string[],
  name: string,
  account: string,
  operators: Child[],
): Promise<Child> {
  const plugin = startChild(name, pluginMain, pluginArgs(proxies, name, account), root);
  for (const operator of operators) {
    const seen = await operator.waitFor(
      `${operator.label} to see "${name}" register`,
      (l) => l.msg === "registry: registered" && l.plugin === name,
    );
    say(`  ${operator.label} saw: registered plugin "${name}" v${seen.version} as ${seen.user}`);
  }
  return plugin;
}

function pluginArgs(proxies: string[], name: string, account: string): string[] {
  return [
    ...["--name", name, "--version", "1.0.0", ...proxies.flatMap((proxy) => ["--target", proxy])],
    ...[
      "--ca-file",
      cluster!.caFile,
      "--server-name",
      "localhost",
      "--token-file",
      cluster!.tokenFile(account),
    ],
    "--trace-stdout",
  ];
}

async function expectCleanExit(child: Child): Promise<void> {
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${child.label} exited with ${signal ?? `code ${code}`}, expected 0`);
}
