// The benchmark suite: `npm run bench [-- --quick] [-- --profile] [-- --plugins N]` from the repo root.
// `-- --only scenarios --scenario "1 MiB" --rounds 5` measures one scenario alone.
// Every measurement runs in worker processes (see layouts.ts); this process only sequences them.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import { startLayout } from "./layouts.js";
import { measureScenario } from "./measure.js";
import { type MixedResult, measureMixed } from "./mixed.js";
import { type ReconnectResult, reconnectReport, runReconnect } from "./reconnect.js";
import { fmt, mixedTable, scaleTable, table, targetTable } from "./report.js";
import { runScale, type ScaleResult } from "./scale.js";
import { mixedScenario, type ScenarioSpec, scenarios, scenarioVariants } from "./scenarios.js";
import { type ScenarioResult, summarize } from "./summarize.js";
import { targets } from "./targets.js";

const started = performance.now();
const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    plugins: { type: "string" },
    rounds: { type: "string" },
    only: { type: "string" },
    scenario: { type: "string" },
  },
});
// `--only scale,mixed`: a subset of the parts, for working on one of them.
// Quick mode (the CI smoke test) leaves out the reconnect runs: a minute of process restarts.
const defaultParts = flags.quick ? "scenarios,mixed,scale" : "scenarios,mixed,one-process,reconnect,scale";
const parts = new Set((flags.only ?? defaultParts).split(","));
// `--scenario "1 MiB"`: only the scenarios whose name contains it, for A/B work on one of them.
const picked = (spec: ScenarioSpec) => !flags.scenario || spec.name.includes(flags.scenario);
const quick = flags.quick!;
const rounds = Number(flags.rounds ?? (quick ? 3 : 5));
const root = fileURLToPath(new URL("../../../", import.meta.url));
const profileDir = flags.profile ? join(root, "bench", "profiles") : undefined;
if (profileDir) await mkdir(profileDir, { recursive: true });
// One directory per worker and Node's default file names: a fixed name made the
// tsx loader thread's profile overwrite the main thread's.
const nodeFlags = (label: string) =>
  profileDir ? ["--cpu-prof", "--cpu-prof-dir", join(profileDir, label)] : [];

const log = (line: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;
const load = () => loadavg().map((l) => Number(l.toFixed(2)));

/** The operator holds one socket per plugin: stay under the open-files limit. */
function pluginCount(): { plugins: number; note?: string } {
  const wanted = Number(flags.plugins ?? (quick ? 500 : 10_000));
  const limit = Number(execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim());
  if (Number.isFinite(limit) && wanted + 512 > limit) {
    return {
      plugins: limit - 512,
      note: `${wanted} plugins asked, ulimit -n is ${limit}: ran ${limit - 512}`,
    };
  }
  return { plugins: wanted };
}

const loadAtStart = load();
log(
  `bench: ${quick ? "quick" : "full"} mode, ${rounds} interleaved rounds, load average ${loadAtStart.join(" ")}`,
);
// RSA key generation is slow: once per run, overlapping the start of the workers.
const certificates = createTestCertificates();

const results: ScenarioResult[] = [];
let mixed: MixedResult[] = [];
if (parts.has("scenarios") || parts.has("mixed")) {
  const separate = await startLayout("separate-processes", certificates, nodeFlags);
  try {
    if (separate.proxyError) log(`proxy variant unavailable: ${separate.proxyError}`);
    log(
      `separate processes: caller ${separate.caller.pid}, callee ${separate.callee?.pid}, proxy ${separate.proxy?.pid}`,
    );
    for (const spec of parts.has("scenarios") ? scenarios(quick).filter(picked) : []) {
      const variants = scenarioVariants(spec, separate.variants);
      const runs = await measureScenario(separate, spec, variants, rounds, log);
      results.push(...summarize(spec, separate.name, runs));
    }
    if (parts.has("mixed")) {
      mixed = await measureMixed(separate, mixedScenario(quick), ["direct", "tunnel"], rounds, log);
    }
  } finally {
    await separate.stop();
  }
}

// The one-process layout, kept as a secondary table: shorter runs, fewer variants, full mode only.
const oneProcess: ScenarioResult[] = [];
if (!quick && parts.has("one-process")) {
  const one = await startLayout("one-process", certificates, nodeFlags);
  try {
    for (const spec of scenarios(quick).filter(picked)) {
      // Streams need longer: under load the first messages alone can take a second.
      const short: ScenarioSpec = {
        ...spec,
        maxMs: Math.min(spec.maxMs, spec.kind === "stream" ? 3_000 : 1_000),
      };
      const runs = await measureScenario(one, short, ["direct", "tunnel", "floor"], 3, log);
      oneProcess.push(...summarize(spec, one.name, runs));
    }
  } finally {
    await one.stop();
  }
}

// Printed before the scale scenario, so that a failure there cannot lose them.
console.log(
  `\nnode ${process.version}, ${availableParallelism()} cpus (${cpus()[0]?.model ?? "unknown"}), ` +
    `${quick ? "quick" : "full"} mode, load average ${loadAtStart.join(" ")} at start\n`,
);
console.log("Caller and callee in separate processes (the deployment layout):\n");
console.log(table(results));
console.log();
console.log(mixedTable(mixed));
if (oneProcess.length) {
  console.log("\nOne process (secondary; 3 rounds of up to 1 s, streams 3 s):\n");
  console.log(table(oneProcess));
}
console.log();

// Plugin processes killed and restarted under: issue 10's reconnect target.
let reconnect: ReconnectResult | undefined;
if (parts.has("reconnect")) {
  const runs = quick ? 3 : 10;
  log(`scenario reconnect: ${quick ? 4 : 10} plugin processes, ${runs} operator kills`);
  reconnect = await runReconnect({ plugins: quick ? 4 : 10, runs, nodeFlags, log });
  console.log(`${reconnectReport(reconnect)}\n`);
}

const { plugins, note: pluginNote } = pluginCount();
if (pluginNote) log(pluginNote);
if (parts.has("scale")) log(`scenario scale: ${plugins} plugins`);
const scale: ScaleResult | { plugins: number; error: string } = parts.has("scale")
  ? await runScale({
      plugins,
      hosts: plugins >= 2_000 ? 4 : 2,
      idleMs: quick ? 2_000 : 10_000,
      nodeFlags,
      log,
    }).catch((err) => ({ plugins, error: message(err) }))
  : { plugins, error: "not run (--only)" };

const checks = targets(results, mixed, scale);
const output = {
  node: process.version,
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? "unknown",
  mode: quick ? "quick" : "full",
  layout: "separate-processes",
  rounds,
  loadAverage: { start: loadAtStart, end: load() },
  scenarios: results,
  mixed,
  oneProcess,
  reconnect,
  scale: pluginNote ? { ...scale, note: pluginNote } : scale,
  targets: checks,
};
await writeFile(join(root, "bench-results.json"), `${JSON.stringify(output, null, 2)}\n`);

console.log(`load average ${output.loadAverage.end.join(" ")} at end\n`);
console.log(scaleTable(scale));
if (pluginNote) console.log(pluginNote);
console.log("\nTargets of issues 11 and 13 (separate processes, same-run paired ratios):\n");
console.log(targetTable(checks));
console.log(`\nwrote bench-results.json in ${fmt((performance.now() - started) / 1000, 1)} s`);
