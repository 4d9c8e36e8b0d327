// A focused run for working on the hot path: one scenario, a few variants,
// interleaved rounds in the separate-processes layout, and every round's rate
// and CPU per op printed (not only medians), so that one change can be
// compared back to back under the shared machine's noise.
// Usage: node --conditions=opf-source --import tsx packages/bench/src/focus.ts \
//   [--scenario "unary 64 B x64"] [--variants tunnel,call,floor] [--rounds 5] [--mixed] [--profile]
// Issue 13's target: --variants tunnel,observed,sampled (metrics and tracing on,
// every trace recorded and 10 % of traces recorded; see observability.ts).
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import { startLayout } from "./layouts.js";
import { measureScenario } from "./measure.js";
import { measureMixed } from "./mixed.js";
import { mixedScenario, scenarios } from "./scenarios.js";
import { median } from "./stats.js";
import type { VariantName } from "./variants.js";

const { values: flags } = parseArgs({
  options: {
    scenario: { type: "string", default: "unary 64 B x64" },
    variants: { type: "string", default: "tunnel,call,floor" },
    rounds: { type: "string", default: "5" },
    mixed: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
  },
});
const rounds = Number(flags.rounds);
const wanted = flags.variants!.split(",") as VariantName[];
const root = fileURLToPath(new URL("../../../", import.meta.url));
const nodeFlags = (label: string) =>
  flags.profile ? ["--cpu-prof", "--cpu-prof-dir", join(root, "bench", "profiles", label)] : [];
const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number | null | undefined, digits = 1) => (n == null ? "—" : n.toFixed(digits));

console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
const layout = await startLayout("separate-processes", createTestCertificates(), nodeFlags);
try {
  if (flags.mixed) {
    const result = await measureMixed(layout, mixedScenario(true), wanted, rounds, log);
    for (const r of result) console.log(JSON.stringify(r));
  } else {
    const spec = scenarios(false).find((s) => s.name === flags.scenario);
    if (!spec) throw new Error(`no scenario "${flags.scenario}"`);
    const runs = await measureScenario(layout, spec, wanted, rounds, log);
    const rateOf = (r: (typeof runs)[number]["rounds"][number]) => (r ? (r.ops / r.elapsedMs) * 1000 : null);
    const tunnel = runs.find((r) => r.variant === "tunnel")?.rounds.map(rateOf);
    for (const { variant, rounds: rs, error } of runs) {
      const ok = rs.filter((r) => r !== null);
      const rate = ok.map((r) => (r.ops / r.elapsedMs) * 1000);
      const caller = ok.map((r) => r.cpuUs / r.ops);
      const callee = ok.map((r) => (r.calleeCpuUs ?? 0) / r.ops);
      console.log(
        `${variant.padEnd(7)} ops/s ${fmt(median(rate), 0).padStart(7)} [${rate.map((x) => fmt(x, 0)).join(" ")}]` +
          `  caller µs/op ${fmt(median(caller))} [${caller.map((x) => fmt(x)).join(" ")}]` +
          `  callee µs/op ${fmt(median(callee))}${error ? `  error: ${error}` : ""}`,
      );
      // Each round's rate over the tunnel's in the same round: the interleaved comparison.
      const ratios = rs.flatMap((r, i) => {
        const own = rateOf(r);
        const base = tunnel?.[i];
        return own !== null && base ? [own / base] : [];
      });
      if (variant !== "tunnel" && ratios.length) {
        console.log(
          `${"".padEnd(7)} ÷ tunnel ${fmt(median(ratios), 2)} (rounds ${fmt(Math.min(...ratios), 2)}–` +
            `${fmt(Math.max(...ratios), 2)}) [${ratios.map((x) => fmt(x, 2)).join(" ")}]`,
        );
      }
    }
  }
} finally {
  await layout.stop();
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}
