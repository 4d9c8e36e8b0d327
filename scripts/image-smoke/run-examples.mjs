// Starts the staged example operator and the staged `aws` plugin with plain
// `node` (no tsx, no workspace), against the testkit's fake Kubernetes API
// serving the DNSRecord CRD, creates a DNSRecord and waits until it is
// Ready=True through the plugin. Checks both probe endpoints on the way: the
// operator's gRPC health (SERVING on its probe port) and the plugin's /readyz
// (200 once registered). Exits 0 on success; fails with a message after 60 s.
//   node scripts/image-smoke/run-examples.mjs OPERATOR_DIR PLUGIN_DIR
//
// Run from the repository: the harness (not the examples) uses the built
// testkit (packages/testkit/dist) and grpc-js from the workspace.
// What the examples' command lines and log lines look like lives in `example`
// below: when the examples change, this is the part to adjust.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const [operatorDir, pluginDir] = process.argv.slice(2);
if (!operatorDir || !pluginDir) throw new Error("usage: run-examples.mjs OPERATOR_DIR PLUGIN_DIR");
const root = new URL("../../", import.meta.url);
const testkitKube = new URL("packages/testkit/dist/kube/index.js", root);
const grpc = createRequire(new URL("packages/server/package.json", root))("@grpc/grpc-js");
const NAMESPACE = "operators";
const RECORD = { group: "example.pluginframework.io", version: "v1alpha1", plural: "dnsrecords" };

const example = {
  operatorArgs: (kubeconfig) => [
    ...["--listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0", "--allow-unauthenticated"],
    ...["--metrics-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
    ...["--kubeconfig", kubeconfig, "--namespace", NAMESPACE, "--identity", "image-smoke"],
    "--exit-with-parent",
  ],
  /** The log line with the bound addresses: the plugin's target and the probe address. */
  listening: (line) =>
    line.msg === "operator listening" && { target: `http://${line.addresses[0]}`, health: line.health },
  pluginArgs: (target) => ["--name", "aws", "--target", target, "--health-port", "0", "--exit-with-parent"],
  /** It binds 0.0.0.0 (the kubelet probes the pod IP); probe it on loopback. */
  pluginHealth: (line) =>
    line.msg === "health endpoints listening" && `127.0.0.1:${line.address.split(":").at(-1)}`,
  registered: (line) => line.msg === "registry: registered" && line.plugin === "aws",
  failed: (line) => line.msg === "controller failed" || line.msg === "operator failed",
  record: { provider: "aws", name: "www.example.com", type: "A", value: "192.0.2.10" },
};

const timeoutMs = 60_000;
const timer = setTimeout(
  () => fail(`not done within ${timeoutMs / 1000} s (operator up, plugin registered, DNSRecord Ready=True)`),
  timeoutMs,
);
const children = [];
const dir = mkdtempSync(join(tmpdir(), "opf-image-smoke-"));
let stopping = false;
let kube;

function start(name, cwd, args, onLine) {
  // cwd is the staged directory, outside the repository: nothing resolves from the workspace.
  const child = spawn(process.execPath, [join(cwd, "dist", "main.js"), ...args], {
    cwd,
    env: { PATH: process.env.PATH, NODE_OPTIONS: "" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping) fail(`${name} exited early with ${code ?? signal}`);
  });
  createInterface({ input: child.stdout }).on("line", (text) => {
    console.log(`[${name}] ${text}`);
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    if (example.failed(line)) fail(`${name} reported: ${text}`);
    onLine(line);
  });
  return child;
}

/** Resolves with the first log line of `child` for which `pick` returns a value, or fails on exit. */
function waitForLine(lines, pick) {
  return new Promise((resolve) => {
    for (const line of lines.seen) {
      const value = pick(line);
      if (value) return resolve(value);
    }
    lines.waiters.add((line) => {
      const value = pick(line);
      if (value) resolve(value);
      return Boolean(value);
    });
  });
}

function lineLog() {
  const log = { seen: [], waiters: new Set() };
  log.push = (line) => {
    log.seen.push(line);
    for (const waiter of log.waiters) if (waiter(line)) log.waiters.delete(waiter);
  };
  return log;
}

/** One request to the fake API as its administrator; resolves with the parsed body. */
function api(method, path, body) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, kube.url);
    const req = request(
      url,
      {
        method,
        ca: kube.caPem,
        headers: { authorization: `Bearer ${kube.adminToken}`, "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () =>
          res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${method} ${path}: ${text}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** grpc.health.v1.Health/Check for the server (""), as the kubelet's grpc probe does. */
async function grpcHealth(address) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const reply = await new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        "/grpc.health.v1.Health/Check",
        () => Buffer.alloc(0), // HealthCheckRequest { service: "" }
        (bytes) => bytes,
        {},
        (err, value) => (err ? reject(err) : resolve(value)),
      ),
    );
    // HealthCheckResponse { status: SERVING (1) } is field 1, varint 1.
    return reply.equals(Buffer.from([0x08, 0x01])) ? "SERVING" : `not SERVING (${reply.toString("hex")})`;
  } finally {
    client.close();
  }
}

async function httpStatus(address, path) {
  const response = await fetch(`http://${address}${path}`);
  await response.arrayBuffer();
  return response.status;
}

/** Polls (bounded by the overall timeout) until the record's Ready condition is True. */
async function waitReady(name) {
  const path = `/apis/${RECORD.group}/${RECORD.version}/namespaces/${NAMESPACE}/${RECORD.plural}/${name}`;
  for (;;) {
    const record = await api("GET", path);
    const ready = record.status?.conditions?.find((c) => c.type === "Ready");
    if (ready?.status === "True" && ready.observedGeneration === record.metadata.generation) return record;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function run() {
  const { startFakeKubeApi } = await import(testkitKube.href).catch((err) => {
    throw new Error(`cannot load the built testkit (${err.message}); build it first: npm run build`);
  });
  kube = await startFakeKubeApi();
  kube.resources.register({ ...RECORD, kind: "DNSRecord" });
  const kubeconfig = join(dir, "operator.kubeconfig");
  await kube.writeKubeconfig(kubeconfig);

  const operatorLog = lineLog();
  const operator = start("operator", operatorDir, example.operatorArgs(kubeconfig), operatorLog.push);
  const { target, health } = await waitForLine(operatorLog, example.listening);
  const operatorHealth = await grpcHealth(health);
  if (operatorHealth !== "SERVING") fail(`operator health on ${health}: ${operatorHealth}`);
  console.log(`image smoke: operator gRPC health on ${health}: SERVING`);

  const pluginLog = lineLog();
  start("plugin", pluginDir, example.pluginArgs(target), pluginLog.push);
  const pluginHealth = await waitForLine(pluginLog, example.pluginHealth);
  await waitForLine(operatorLog, example.registered);
  const readyz = await httpStatus(pluginHealth, "/readyz");
  if (readyz !== 200) fail(`plugin /readyz on ${pluginHealth} answered ${readyz} after registering`);
  const livez = await httpStatus(pluginHealth, "/livez");
  if (livez !== 200) fail(`plugin /livez on ${pluginHealth} answered ${livez}`);
  console.log(`image smoke: plugin /readyz and /livez on ${pluginHealth}: 200`);

  await api("POST", `/apis/${RECORD.group}/${RECORD.version}/namespaces/${NAMESPACE}/${RECORD.plural}`, {
    apiVersion: `${RECORD.group}/${RECORD.version}`,
    kind: "DNSRecord",
    metadata: { name: "www" },
    spec: example.record,
  });
  const record = await waitReady("www");
  console.log(`image smoke: DNSRecord www Ready=True, recordId=${record.status?.recordId}`);
  void operator;
}

async function finish() {
  stopping = true;
  clearTimeout(timer);
  const exits = children.map((child) => once(child, "exit"));
  // The plugin first, then the operator, as a rollout would.
  for (const child of [...children].reverse()) child.kill("SIGTERM");
  const codes = await Promise.all(exits);
  await kube?.close();
  rmSync(dir, { recursive: true, force: true });
  if (codes.some(([code]) => code !== 0))
    fail(`after SIGTERM the processes exited with ${JSON.stringify(codes)}`);
  console.log("image smoke: the staged operator reconciled a DNSRecord through the staged plugin");
}

function fail(message) {
  stopping = true;
  console.error(`image smoke: FAILED: ${message}`);
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}

process.on("exit", () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
run().then(finish, (err) => fail(err instanceof Error ? err.message : String(err)));
