// The demo: the example operator and two example plugins ("aws", "gcp") as
// separate processes on loopback behind a fake kube-rbac-proxy and a fake
// Kubernetes API, a few typed calls through the plugins' streams, an impostor
// refused, then a graceful shutdown. Exits 0 on success, non-zero on any
// failure, and never leaves a child process behind.
import { fileURLToPath } from "node:url";
import { type Child, killAll, type LogLine, startChild } from "./child.js";
import { type DemoCluster, startDemoCluster } from "./fake-cluster.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const operatorMain = fileURLToPath(new URL("../../operator/src/main.ts", import.meta.url));
const pluginMain = fileURLToPath(new URL("../../plugin/src/main.ts", import.meta.url));
const GUARD_MS = 30_000;
const PLUGINS = ["aws", "gcp"] as const;
const PERMISSION_DENIED = 7;
// Declared before the top-level await below runs the demo, which uses it.
const commandIds = { last: 0 };
let cluster: DemoCluster | undefined;

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
  await cluster?.close();
}

async function runDemo(): Promise<void> {
  say("▶ starting a Kubernetes API (testkit fake) with the RBAC of examples/deploy");
  cluster = await startDemoCluster([...PLUGINS]);
  say(
    `  API on ${cluster.apiUrl}: ServiceAccounts plugins/aws and plugins/gcp may each register only their own name`,
  );

  say("\n▶ starting the operator (plugin server on 127.0.0.1, ephemeral port)");
  const operator = startChild(
    "operator",
    operatorMain,
    [
      ...["--listen", "127.0.0.1:0", "--commands", "--call-interval-ms", "0"],
      ...["--trust-proxy-headers", "--kubeconfig", cluster.kubeconfigFile],
    ],
    root,
  );
  const listening = await operator.waitFor("the operator to listen", (l) => l.msg === "operator listening");
  const address = (listening.addresses as string[])[0]!;
  say(
    `  operator (pid ${operator.process.pid}) listening on ${address}: identity from the proxy's headers, ` +
      "plugin names checked with SubjectAccessReviews",
  );

  const proxyUrl = await cluster.startProxy(address);
  say(
    `  kube-rbac-proxy (testkit fake) on ${proxyUrl}: TLS, TokenReview, SubjectAccessReview, → h2c ${address}`,
  );

  say(
    "\n▶ starting plugins aws and gcp, each in its own process, dialing the proxy with its ServiceAccount token",
  );
  const plugins = new Map<string, Child>();
  for (const name of PLUGINS) plugins.set(name, startPlugin(proxyUrl, name, name));
  for (const name of PLUGINS) {
    const seen = await operator.waitFor(
      `the operator to see "${name}" register`,
      (l) => l.msg === "registry: registered" && l.plugin === name,
    );
    say(
      `  operator saw: registered plugin "${seen.plugin}" v${seen.version} as ${seen.user} ` +
        `(pid ${plugins.get(name)!.process.pid}, services ${(seen.services as string[]).join(", ")})`,
    );
  }

  say("\n▶ typed calls from the operator, through each plugin's stream");
  for (const [name, who] of [
    ["aws", "Ada"],
    ["gcp", "Grace"],
  ] as const) {
    const reply = await ask(operator, { op: "greet", plugin: name, name: who });
    say(
      `  registry.get("${name}").call(SayHello, { name: "${who}" }) → "${reply.message}" (served by ${reply.servedBy})`,
    );
  }
  const id = nextId();
  operator.send({ id, op: "greet-all", name: "everyone" });
  await operator.waitFor("greet-all to finish", (l) => l.id === id && l.msg === "command done");
  for (const name of PLUGINS) {
    const reply = await operator.waitFor(
      `greet-all's answer from ${name}`,
      (l) => l.id === id && l.plugin === name,
    );
    if (reply.msg !== "call answered")
      throw new Error(`greet-all via ${name} failed: ${reply.code} ${reply.details}`);
    say(`  greet-all → ${name}: "${reply.message}" (served by ${reply.servedBy})`);
  }
  const stream = await ask(operator, { op: "count", plugin: "gcp", name: "Linus", count: 3 });
  say(
    `  client(GreeterServiceClient).countGreetings (server streaming, gcp) → ${JSON.stringify(stream.messages)}`,
  );

  say('\n▶ an impostor: a plugin with the gcp ServiceAccount\'s token tries to register as "aws"');
  const impostor = startPlugin(proxyUrl, "aws", "gcp");
  const refused = await impostor.waitFor(
    "the impostor to be refused",
    (l) => l.msg === "plugin connection rejected" || l.msg === "plugin connection registered",
  );
  if (refused.code !== PERMISSION_DENIED) {
    throw new Error(
      `expected the impostor to be refused with PERMISSION_DENIED, got ${JSON.stringify(refused)}`,
    );
  }
  say(`  impostor (pid ${impostor.process.pid}) refused, through the proxy: PERMISSION_DENIED`);
  say(`    ${refused.details}`);
  const still = await ask(operator, { op: "greet", plugin: "aws", name: "Ada" });
  say(`  registry.get("aws") is still the real plugin → "${still.message}" (served by ${still.servedBy})`);
  impostor.process.kill("SIGTERM");
  await expectCleanExit(impostor);

  say("\n▶ calling a plugin that is not registered");
  const unknown = await ask(operator, { op: "greet", plugin: "azure", name: "nobody" }, "call failed");
  if (unknown.code !== "NOT_FOUND") throw new Error(`expected NOT_FOUND for "azure", got ${unknown.code}`);
  say(`  registry.get("azure") → ${unknown.code}: ${unknown.details}`);

  say("\n▶ shutting down gracefully (SIGTERM to each plugin, then to the operator)");
  for (const [name, plugin] of plugins) {
    plugin.process.kill("SIGTERM");
    await expectCleanExit(plugin);
    const gone = await operator.waitFor(
      `the operator to see "${name}" leave`,
      (l) => l.msg === "registry: unregistered" && l.plugin === name,
    );
    say(`  plugin ${name} exited 0; operator saw: unregistered "${name}" (${gone.replicas} replicas left)`);
  }
  operator.process.kill("SIGTERM");
  await expectCleanExit(operator);
  say("  operator stopped and exited 0");
  await cluster.close();
  cluster = undefined;
}

/** A plugin process named `name` that presents the token of ServiceAccount `plugins/<account>`. */
function startPlugin(proxyUrl: string, name: string, account: string): Child {
  const label = name === account ? name : `${name}(as ${account})`;
  return startChild(
    label,
    pluginMain,
    [
      ...["--name", name, "--version", "1.0.0", "--target", proxyUrl],
      ...[
        "--ca-file",
        cluster!.caFile,
        "--server-name",
        "localhost",
        "--token-file",
        cluster!.tokenFile(account),
      ],
    ],
    root,
  );
}

function nextId(): string {
  return `demo-${++commandIds.last}`;
}

/** Sends a command to the operator and waits for its outcome; an unexpected outcome fails the demo. */
async function ask(operator: Child, command: object, expected = "call answered"): Promise<LogLine> {
  const id = nextId();
  operator.send({ id, ...command });
  const line = await operator.waitFor(`the answer to ${JSON.stringify(command)}`, (l) => l.id === id);
  if (line.msg !== expected) {
    throw new Error(
      `${JSON.stringify(command)}: expected "${expected}", got "${line.msg}" ${line.code ?? ""} ${line.details ?? ""}`,
    );
  }
  return line;
}

async function expectCleanExit(child: Child): Promise<void> {
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${child.label} exited with ${signal ?? `code ${code}`}, expected 0`);
}
