// The targets of issues 11 and 13, evaluated on one run (separate-processes layout).
import type { MixedResult } from "./mixed.js";
import type { ScaleResult } from "./scale.js";
import type { Range } from "./stats.js";
import type { ScenarioResult } from "./summarize.js";

/** One target: its goal ("≥5", "≤0.35", or "report" for a figure without a goal), the value and whether it is met. */
export interface Target {
  what: string;
  goal: string;
  /** The median the goal is judged on. */
  value: number | null;
  /** The per-round spread of a paired ratio, when there is one. */
  range?: Range | null;
  met: boolean | null;
  digits: number;
}

/** Throughput lost, in percent, from paired on ÷ off ratios: the lowest ratio is the largest loss. */
function overheadPct(ratio: Range | null | undefined): Range | null {
  if (!ratio) return null;
  const pct = (x: number) => (1 - x) * 100;
  return { median: pct(ratio.median), min: pct(ratio.max), max: pct(ratio.min) };
}

/** Judges `value` against `goal`, printed with enough digits that the figure agrees with the verdict. */
export function check(
  what: string,
  goal: string,
  value: number | null | undefined,
  range?: Range | null,
  digits = 2,
): Target {
  const v = value ?? null;
  let met: boolean | null = null;
  if (v !== null && goal !== "report") {
    const limit = Number(goal.slice(1));
    const meets = (x: number) => (goal.startsWith("≥") ? x >= limit : x <= limit);
    met = meets(v);
    // More digits while the printed value would read as the other verdict
    // (0.8978 printed "0.90" beside "NOT met" for a goal of ≥ 0.9).
    while (digits < 6 && meets(Number(v.toFixed(digits))) !== met) digits++;
  }
  return { what, goal, value: v, ...(range ? { range } : {}), met, digits };
}

export function targets(
  results: ScenarioResult[],
  mixed: MixedResult[],
  scale: ScaleResult | { plugins: number; error: string },
): Target[] {
  const get = (name: string, variant: string) =>
    results.find((r) => r.name === name && r.variant === variant);
  const x64 = get("unary 64 B x64", "tunnel");
  const x64call = get("unary 64 B x64", "call");
  const observed = get("unary 64 B x64", "observed")?.ratioSpread.vsTunnel;
  const sampled = get("unary 64 B x64", "sampled")?.ratioSpread.vsTunnel;
  const x1 = get("unary 64 B x1", "tunnel");
  const mib = get("unary 1 MiB x4", "tunnel");
  const stream = get("server-stream 64 B", "tunnel");
  const mix = mixed.find((m) => m.variant === "tunnel");
  const s = "rssPerSessionKiB" in scale ? scale : undefined;
  const n = scale.plugins.toLocaleString("en-US");
  const r = (range: Range | null | undefined) => [range?.median, range] as const;
  return [
    check("unary 64 B x64: generated client ÷ direct", "≥5", ...r(x64?.ratioSpread.vsDirect)),
    check("unary 64 B x64: generated client ÷ floor", "≥0.9", ...r(x64?.ratioSpread.vsFloor)),
    check("unary 64 B x64: .call() ÷ floor", "≥1.0", ...r(x64call?.ratioSpread.vsFloor)),
    check("unary 64 B x64: generated client ÷ .call()", "≥0.9", ...r(x64?.ratioSpread.vsCall)),
    check(
      "unary 64 B x1: generated client p50 ÷ direct p50 (lower is better)",
      "≤0.35",
      ...r(x1?.ratioSpread.p50VsDirect),
    ),
    check("unary 1 MiB x4: generated client ÷ direct", "≥1.5", ...r(mib?.ratioSpread.vsDirect)),
    check("unary 1 MiB x4: generated client ÷ floor", "≥0.6", ...r(mib?.ratioSpread.vsFloor)),
    check("server-stream 64 B: generated client ÷ direct", "≥4", ...r(stream?.ratioSpread.vsDirect)),
    check(
      "operator CPU per unary call, 64 in flight, generated client (µs)",
      "≤12",
      x64?.cpuUsPerCall.caller,
      null,
      1,
    ),
    check(
      "operator CPU per unary call, 64 in flight, .call() (µs)",
      "report",
      x64call?.cpuUsPerCall.caller,
      null,
      1,
    ),
    check(
      "plugin CPU per unary call, 64 in flight, generated client (µs)",
      "report",
      x64?.cpuUsPerCall.callee,
      null,
      1,
    ),
    // Judged as an operator at this rate runs tracing: a ParentBased(TraceIdRatioBased) sampler
    // recording 10 % of traces. A span on every call is reported beside it.
    check(
      "observability overhead: unary 64 B x64, metrics + tracing (10 % sampled) on vs off (% of throughput)",
      "≤15",
      ...r(overheadPct(sampled)),
      1,
    ),
    check(
      "observability overhead: unary 64 B x64, metrics + tracing (every call recorded) on vs off (% of throughput)",
      "report",
      ...r(overheadPct(observed)),
      1,
    ),
    check(`${mix?.name ?? "mixed"}: loaded p99 ÷ idle p99`, "≤3", ...r(mix?.p99Ratio)),
    check(`${n} plugins: operator RSS per session (KiB)`, "≤32", s?.rssPerSessionKiB, null, 1),
    check(`${n} plugins: all registered (ms)`, "≤10000", s?.registerAllMs, null, 0),
    check(`${n} plugins: fan-out call to all (ms)`, "≤1000", s?.fanOutMs, null, 0),
    check(
      `${n} plugins: operator event-loop delay p99 during registration (ms)`,
      "≤50",
      s?.eventLoopP99Ms,
      null,
      1,
    ),
    check(`${n} plugins: operator restart, all back (ms)`, "≤15000", s?.storm.allBackMs, null, 0),
    check(
      `${n} plugins: idle operator CPU per 1,000 sessions (% of a core)`,
      "report",
      s?.idleCpuPctPer1000,
      null,
      2,
    ),
  ];
}
