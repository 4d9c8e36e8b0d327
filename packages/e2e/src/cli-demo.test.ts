// The `opf` bin as a shell user runs it, against the demo's processes: the
// example operator (serving its admin service) and the example plugin "aws",
// each its own Node process, with the testkit's fake Kubernetes API for the
// Lease and the DNSRecords.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { FakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namespace, startDnsApi } from "./dns-harness.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const operatorMain = join(repo, "examples/operator/src/main.ts");
const pluginMain = join(repo, "examples/plugin/src/main.ts");
const opfMain = join(repo, "packages/cli/src/main.ts");
const dnsProto = join(repo, "packages/proto/proto/example/v1/dns.proto");
const TSX = ["--conditions=opf-source", "--import", "tsx"];

type LogLine = { msg?: string; [key: string]: unknown };
const children = new Set<ChildProcess>();

/** A process with its stdout lines (JSON or not) awaitable. */
function start(script: string, args: string[]) {
  const child = spawn(process.execPath, [...TSX, script, ...args], {
    cwd: repo,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, OPF_ADMIN: "" },
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const lines: string[] = [];
  const errors: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (into: string[]) => (text: string) => {
    into.push(text);
    for (const waiter of waiters) waiter();
  };
  createInterface({ input: child.stdout! }).on("line", collect(lines));
  createInterface({ input: child.stderr! }).on("line", collect(errors));
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    lines,
    errors,
    exited,
    /** Resolves with the first stdout or stderr line that matches; rejects if the process exits first. */
    waitFor(what: string, match: (line: string) => boolean): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = [...lines, ...errors].find(match);
          if (!found) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        void exited.then(() => reject(new Error(`process exited before ${what}:\n${errors.join("\n")}`)));
        check();
      });
    },
  };
}

/** Runs the opf bin to completion. */
function opf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...TSX, opfMain, ...args],
      { cwd: repo, env: { ...process.env, OPF_ADMIN: "" }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const json = (line: string): LogLine => {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return {};
  }
};

describe("opf against the demo's operator and plugin", () => {
  let api: FakeKubeApi;
  let dir: string;
  let admin: string;
  let pluginTarget: string;
  let watch: { code: number | null; stdout: string[]; stderr: string[] };

  beforeAll(async () => {
    api = await startDnsApi();
    dir = mkdtempSync(join(tmpdir(), "opf-cli-"));
    const kubeconfig = join(dir, "kubeconfig");
    await api.writeKubeconfig(kubeconfig);
    const operator = start(operatorMain, [
      ...["--listen", "127.0.0.1:0", "--allow-unauthenticated", "--kubeconfig", kubeconfig],
      ...["--namespace", namespace, "--identity", "cli-test", "--exit-with-parent"],
      ...[
        "--health-listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
      ],
    ]);
    const listening = json(
      await operator.waitFor("the operator to listen", (l) => json(l).msg === "operator listening"),
    );
    admin = listening.admin as string;
    pluginTarget = `http://${(listening.addresses as string[])[0]}`;

    // `opf watch` first, so it sees the plugin arrive.
    const watcher = start(opfMain, ["--admin", admin, "watch"]);
    await watcher.waitFor("opf watch to subscribe", (l) => l.startsWith("opf: watching plugins"));
    start(pluginMain, [
      "--name",
      "aws",
      "--version",
      "1.0.0",
      "--target",
      pluginTarget,
      "--exit-with-parent",
    ]);
    await watcher.waitFor("the registration", (l) => l.includes(" registered aws v1.0.0 "));
    watcher.child.kill("SIGINT");
    const [code] = await watcher.exited;
    watch = { code, stdout: watcher.lines, stderr: watcher.errors };
  }, 120_000);

  afterAll(async () => {
    const running = [...children];
    for (const child of running) child.kill("SIGKILL");
    await Promise.all(running.map((child) => (child.exitCode === null ? once(child, "exit") : undefined)));
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("watch prints the registration as it happens and exits 0 on Ctrl-C", () => {
    expect(watch.code).toBe(0);
    expect(watch.stderr).toEqual([`opf: watching plugins at ${admin}; Ctrl-C to stop`]);
    expect(watch.stdout).toHaveLength(1);
    expect(watch.stdout[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z registered aws v1\.0\.0 session [\w-]+ \(1 session\(s\) now\)$/,
    );
  });

  it("plugins, describe and call print what the operator knows and exit 0", async () => {
    const [plugins, described, created] = await Promise.all([
      opf(["--admin", admin, "plugins"]),
      opf(["--admin", admin, "describe", "aws"]),
      opf([
        // No --proto: the example operator's admin service hands out its descriptors.
        ...["--admin", admin, "call", "aws", "example.v1.DnsProviderService/CreateRecord"],
        ...["--data", '{"name":"cli.example.com","type":"RECORD_TYPE_A","value":"192.0.2.7"}'],
      ]),
    ]);

    expect(plugins.stderr).toBe("");
    expect(plugins.code).toBe(0);
    const [header, row, ...rest] = plugins.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME +VERSION +IDENTITY +SERVICES +SESSIONS +IN-FLIGHT +AGE$/);
    // IN-FLIGHT is 0 or 1: the `call` above runs at the same time as this listing.
    expect(row).toMatch(/^aws +1\.0\.0 +- +example\.v1\.DnsProviderService +1 +[01] +\d+s$/);
    expect(rest).toEqual([]);

    expect(described.code).toBe(0);
    expect(described.stdout).toContain("Name:      aws\nSessions:  1\n");
    expect(described.stdout).toContain("  Protocol:   revision 2\n");
    for (const method of ["CreateRecord", "UpdateRecord", "DeleteRecord"])
      expect(described.stdout).toContain(`    example.v1.DnsProviderService/${method} (unary)\n`);
    expect(described.stdout).toContain("    example.v1.DnsProviderService/WatchZone (server-streaming)\n");

    // The plugin process made the record: its reply, as proto3 JSON.
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({
      record: {
        id: "aws-1",
        name: "cli.example.com",
        type: "RECORD_TYPE_A",
        value: "192.0.2.7",
        owner: "",
        revision: "1",
      },
      created: true,
    });
    // Each opf run is a Node process start (tsx compiles it): slow on a loaded machine.
  }, 90_000);

  it("exits 1 for what the operator refuses, 2 for a bad command line, 3 when unreachable", async () => {
    const [missing, failed, badJson, unreachable] = await Promise.all([
      opf(["--admin", admin, "describe", "gcp"]),
      opf([
        ...["--admin", admin, "call", "aws", "example.v1.DnsProviderService/UpdateRecord"],
        ...[
          "--proto",
          dnsProto,
          "--data",
          '{"id":"aws-404","name":"x.example.com","type":"RECORD_TYPE_A","value":"192.0.2.8"}',
        ],
      ]),
      opf([
        "--admin",
        admin,
        "call",
        "aws",
        "example.v1.DnsProviderService/DeleteRecord",
        "--proto",
        dnsProto,
        "--data",
        "{id:",
      ]),
      opf(["--admin", "127.0.0.1:1", "plugins"]),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^opf: NOT_FOUND: .*"gcp".*registered: aws/);
    // The plugin's own status, through the tunnel and the admin service (types from --proto this time).
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('opf: NOT_FOUND: record "aws-404" does not exist; create it again\n');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/^opf: --data is not JSON: /);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain("cannot reach the operator's admin service at 127.0.0.1:1");
  }, 90_000);
});
