// The benchmark suite: `npm run bench [-- --quick] [-- --profile]` from the repo root.
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import type { RunResult } from "./loop.js";
import { profiled } from "./profile.js";
import { type ScenarioResult, scaleTable, table, targets, targetTable } from "./report.js";
import { runScale, type ScaleResult } from "./scale.js";
import { type Scenario, scenarios } from "./scenarios.js";
import { median, quantile, spreadPct } from "./stats.js";
import { startDirect, startTunnel, type Variant, type VariantName } from "./variants.js";

const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const profile = args.has("--profile");
const rounds = quick ? 2 : 5;
const root = fileURLToPath(new URL("../../../", import.meta.url));
const profileDir = profile ? join(root, "bench", "profiles") : undefined;
if (profileDir) await mkdir(profileDir, { recursive: true });

const log = (line: string) => process.stderr.write(`${line}\n`);
const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;

interface Runs {
  variant: VariantName;
  runs: RunResult[];
  error?: string;
}

async function measure(scenario: Scenario, direct: Variant, floor: Variant): Promise<Runs[]> {
  const names: VariantName[] = ["direct", "tunnel", "proxy", "floor"];
  const all: Runs[] = names.map((variant) => ({ variant, runs: [] }));
  const variants: (Variant | undefined)[] = [direct, undefined, undefined, floor];
  const started: Variant[] = [];
  for (const [i, certs] of [[1, undefined] as const, [2, await certificates] as const]) {
    try {
      const v = await startTunnel(certs);
      variants[i] = v;
      started.push(v);
    } catch (err) {
      all[i]!.error = `setup: ${message(err)}`;
    }
  }
  for (const [i, v] of variants.entries()) {
    if (!v) continue;
    await scenario.warmup(v).catch((err) => {
      all[i]!.error = `warm-up: ${message(err)}`;
    });
  }
  for (let round = 0; round < rounds; round++) {
    // Interleave, rotating the order, so drift (thermal, GC, other load) hits every variant alike.
    for (let k = 0; k < variants.length; k++) {
      const i = (round + k) % variants.length;
      const v = variants[i];
      if (!v || all[i]!.error) continue;
      try {
        all[i]!.runs.push(await scenario.run(v));
      } catch (err) {
        all[i]!.error = message(err);
      }
    }
    log(`  ${scenario.name}: round ${round + 1}/${rounds}`);
  }
  if (profileDir) {
    for (const [i, v] of variants.entries()) {
      if (!v || all[i]!.error) continue;
      const name = `${slug(scenario.name)}-${v.name}`;
      const { top } = await profiled(profileDir, name, () => scenario.run(v)).catch((err) => ({
        top: [message(err)],
      }));
      log(`  profile ${name}.cpuprofile, top self time:\n    ${top.join("\n    ")}`);
    }
  }
  for (const v of started) await v.close().catch(() => {});
  return all;
}

function summarize(scenario: Scenario, all: Runs[]): ScenarioResult[] {
  const rate = (r: RunResult) => (r.ops / r.elapsedMs) * 1000;
  const summary = all.map((x) => {
    const rates = x.runs.map(rate);
    const ok = !x.error && rates.length > 0;
    const hasLatency = ok && x.runs.every((r) => r.latenciesUs.length > 0);
    return {
      name: scenario.name,
      variant: x.variant,
      unit: scenario.unit,
      runs: rates.length,
      opsPerSec: ok ? median(rates) : null,
      spreadPct: ok ? spreadPct(rates) : null,
      p50us: hasLatency ? median(x.runs.map((r) => quantile(r.latenciesUs, 0.5))) : null,
      p99us: hasLatency ? median(x.runs.map((r) => quantile(r.latenciesUs, 0.99))) : null,
      ratioVsDirect: null as number | null,
      ratioVsFloor: null as number | null,
      ratioVsTunnel: undefined as number | null | undefined,
      ...(x.error ? { error: x.error } : {}),
    };
  });
  const [d, t, , f] = summary;
  for (const s of summary) {
    if (s.opsPerSec === null) continue;
    s.ratioVsDirect = d?.opsPerSec ? s.opsPerSec / d.opsPerSec : null;
    s.ratioVsFloor = f?.opsPerSec ? s.opsPerSec / f.opsPerSec : null;
    if (s.variant === "proxy") s.ratioVsTunnel = t?.opsPerSec ? s.opsPerSec / t.opsPerSec : null;
  }
  return summary;
}

// RSA key generation is slow: once per run, overlapping the first scenarios.
const certificates = createTestCertificates();
const started = performance.now();
log(
  `bench: ${quick ? "quick" : "full"} mode, ${rounds} alternating rounds per scenario${profile ? ", profiling" : ""}`,
);
const { direct, floor } = await startDirect();
const results: ScenarioResult[] = [];
for (const scenario of scenarios(quick)) {
  log(`scenario ${scenario.name}`);
  results.push(...summarize(scenario, await measure(scenario, direct, floor)));
}
await direct.close();

const plugins = quick ? 50 : 1000;
log(`scenario scale: ${plugins} plugins`);
const scale: ScaleResult | { plugins: number; error: string } = await runScale(plugins, profileDir).catch(
  (err) => ({
    plugins,
    error: message(err),
  }),
);

const checks = targets(results, "rssPerSessionKiB" in scale ? scale : { error: scale.error });
const output = {
  node: process.version,
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? "unknown",
  mode: quick ? "quick" : "full",
  rounds,
  scenarios: results,
  scale,
  targets: checks,
};
await writeFile(join(root, "bench-results.json"), `${JSON.stringify(output, null, 2)}\n`);

console.log(
  `\nnode ${process.version}, ${availableParallelism()} cpus (${output.cpuModel}), ${output.mode} mode\n`,
);
console.log(table(results));
console.log();
console.log(scaleTable("rssPerSessionKiB" in scale ? scale : { error: scale.error }));
console.log();
console.log(targetTable(checks));
console.log(`\nwrote bench-results.json in ${((performance.now() - started) / 1000).toFixed(1)} s`);
