import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const main = fileURLToPath(new URL("./main.ts", import.meta.url));

describe("the demo", () => {
  it("reconciles DNSRecords through plugins across a leader failover, refuses an impostor, shows a trace across processes, and exits 0", async () => {
    const child = spawn(process.execPath, ["--conditions=opf-source", "--import", "tsx", main], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    // The demo has its own 120 s guard; this bound only keeps a broken demo from hanging the suite.
    const killer = setTimeout(() => child.kill("SIGKILL"), 130_000);
    const [code] = (await once(child, "exit")) as [number | null];
    clearTimeout(killer);

    expect(output).toContain("✔ demo finished");
    expect(code, output).toBe(0);
    // Both replicas serve plugins; the identity comes from the proxy after a TokenReview.
    for (const replica of ["operator-a", "operator-b"]) {
      for (const plugin of ["aws", "gcp"]) {
        expect(output).toContain(
          `${replica} saw: registered plugin "${plugin}" v1.0.0 as system:serviceaccount:plugins:${plugin}`,
        );
      }
    }
    // Step 1: Ready through the aws plugin, with the provider's record id in the status.
    expect(output).toMatch(
      /get dnsrecord www → Ready=True reason=Reconciled generation=1 observedGeneration=1: A www\.example\.com → 192\.0\.2\.10 in aws \(record aws-1\)/,
    );
    // Step 2: PluginUnavailable, then Ready once gcp registers.
    expect(output).toContain(
      'get dnsrecord api → Ready=False reason=PluginUnavailable generation=1 observedGeneration=1: plugin "gcp" is not registered (registered: aws)',
    );
    expect(output).toMatch(/no polling → Ready=True reason=Reconciled .*in gcp \(record gcp-1\)/);
    // The impostor with gcp's token may not register as "aws".
    expect(output).toMatch(
      /refused, through the proxy: PERMISSION_DENIED\n.*"system:serviceaccount:plugins:gcp" may not register plugins\.pluginframework\.io "aws"/,
    );
    // Step 3: the finalizer deletes the provider record before the object goes.
    expect(output).toContain(
      "plugin aws: DeleteRecord(aws-1) → deleted=true; then the finalizer was removed",
    );
    expect(output).toContain("get dnsrecord www → NotFound");
    // Step 4: the other replica takes over within the lease, keeps its plugin sessions, and reconciles.
    const takeover = /(operator-[ab]) took over after (\d+) ms \(lease duration (\d+) ms\)/.exec(output);
    expect(takeover, output).not.toBeNull();
    expect(Number(takeover![2])).toBeLessThanOrEqual(Number(takeover![3]) + 1_500);
    expect(output).toMatch(
      /edited api → Ready=True reason=Reconciled generation=2 observedGeneration=2: .*lb2\.example\.net/,
    );
    expect(output).toContain(
      `${takeover![1]} saw 2 registrations in all, none after the kill: no plugin reconnected`,
    );
    // Observability: /metrics over HTTP and the opf CLI through the admin service, from the new leader.
    expect(output).toContain(`▶ observability: what ${takeover![1]} shows an operator on call`);
    expect(output).toMatch(/curl http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(output).toMatch(/^ {4}pluginframework_sessions\{plugin="aws",state="active"\} 1$/m);
    expect(output).toMatch(
      /^ {4}pluginframework_calls_handled_total\{plugin="gcp",service="example\.v1\.DnsProviderService",method="UpdateRecord",type="unary",caller="operator",code="OK"\} 1$/m,
    );
    expect(output).toMatch(/^ {4}NAME +VERSION +IDENTITY/m);
    expect(output).toMatch(
      /^ {4}aws +1\.0\.0 +system:serviceaccount:plugins:aws +example\.v1\.DnsProviderService +1 /m,
    );
    expect(output).toMatch(
      /call aws example\.v1\.DnsProviderService\/DeleteRecord .*--data '\{"id":"aws-404"\}'/,
    );
    expect(output).toContain('    {"deleted":false}');
    // Tracing: the edit's reconcile in the new leader → its CLIENT call → the SERVER span in plugin gcp,
    // one trace across two processes, from the span lines they printed with --trace-stdout.
    const rpc = (indent: number) =>
      String.raw` {${indent}}rpc\.system=grpc rpc\.service=example\.v1\.DnsProviderService rpc\.method=UpdateRecord rpc\.grpc\.status_code=0$`;
    const span = String.raw`, \d+\.\d ms, span [0-9a-f]{16}`;
    const method = String.raw`example\.v1\.DnsProviderService\/UpdateRecord`;
    const tree = new RegExp(
      [
        "^ {4}trace [0-9a-f]{32}",
        String.raw` {4}reconcile DNSRecord operators\/api \[INTERNAL\] in ${takeover![1]}${span}`,
        String.raw` {4}└─ ${method} \[CLIENT\] in ${takeover![1]}${span}`,
        rpc(10),
        String.raw` {7}└─ ${method} \[SERVER\] in plugin gcp${span}`,
        rpc(13),
      ].join("\n"),
      "m",
    );
    expect(output).toMatch(tree);
    // The span lines themselves are collected, never printed.
    expect(output).not.toContain('"otel":"span"');
    expect(output).toContain(`${takeover![1]} released the Lease, stopped and exited 0`);
  }, 140_000);
});
