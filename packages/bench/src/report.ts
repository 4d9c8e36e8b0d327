import type { ScaleResult } from "./scale.js";

/** One variant of one scenario, as in bench-results.json. */
export interface ScenarioResult {
  name: string;
  variant: "direct" | "tunnel" | "proxy" | "floor";
  unit: "call" | "msg";
  runs: number;
  opsPerSec: number | null;
  /** (max - min) / median of the runs' rates, percent. */
  spreadPct: number | null;
  p50us: number | null;
  p99us: number | null;
  ratioVsDirect: number | null;
  ratioVsFloor: number | null;
  /** Proxy variant only: its rate over the tunnel's without the proxy. */
  ratioVsTunnel?: number | null;
  error?: string;
}

export interface Target {
  what: string;
  goal: string;
  value: number | null;
  met: boolean | null;
}

const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v)
    ? "—"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The results as a Markdown table (also readable in a terminal). */
export function table(results: ScenarioResult[]): string {
  const lines = [
    "| scenario | variant | ops/s (median) | spread | p50 µs | p99 µs | ÷ direct | ÷ floor | ÷ tunnel |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const ops = r.error ? `FAILED: ${r.error.slice(0, 100)}` : `${fmt(r.opsPerSec)} ${r.unit}/s`;
    lines.push(
      `| ${r.name} | ${r.variant} | ${ops} | ${r.spreadPct === null ? "—" : `±${fmt(r.spreadPct / 2, 0)}%`} | ${fmt(r.p50us)} | ${fmt(r.p99us)} | ${fmt(r.ratioVsDirect, 2)} | ${fmt(r.ratioVsFloor, 2)} | ${fmt(r.ratioVsTunnel, 2)} |`,
    );
  }
  return lines.join("\n");
}

export function scaleTable(scale: ScaleResult | { error: string }): string {
  if (!("plugins" in scale)) return `scale scenario FAILED: ${scale.error}`;
  return [
    "| plugins | operator RSS / idle session | heap / session | all registered | fan-out (warm, median of 2) | fan-out (cold) |",
    "|---:|---:|---:|---:|---:|---:|",
    `| ${scale.plugins} | ${fmt(scale.rssPerSessionKiB, 1)} KiB | ${fmt(scale.heapPerSessionKiB, 1)} KiB | ${fmt(scale.registerAllMs)} ms | ${fmt(scale.fanOutMs)} ms | ${fmt(scale.fanOutColdMs)} ms |`,
    ...(scale.error ? [`\nscale errors: ${scale.error}`] : []),
  ].join("\n");
}

/** The issue's targets, evaluated on this run. */
export function targets(results: ScenarioResult[], scale: ScaleResult | { error: string }): Target[] {
  const get = (name: string, variant: string) =>
    results.find((r) => r.name === name && r.variant === variant);
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || !b ? null : a / b;
  const check = (what: string, goal: string, value: number | null): Target => {
    const [op, limit] = [goal.slice(0, 1), Number(goal.slice(1))];
    return { what, goal, value, met: value === null ? null : op === "≥" ? value >= limit : value <= limit };
  };
  const t64 = get("unary 64 B x64", "tunnel");
  const t1 = get("unary 64 B x1", "tunnel");
  const d1 = get("unary 64 B x1", "direct");
  const s = "plugins" in scale ? scale : undefined;
  return [
    check("unary 64 B, 64 in flight: tunnel ÷ direct", "≥3.0", t64?.ratioVsDirect ?? null),
    check("unary 64 B, 64 in flight: tunnel ÷ floor", "≥0.6", t64?.ratioVsFloor ?? null),
    check("unary 64 B, 1 in flight: tunnel p50 ÷ direct p50", "≤0.5", ratio(t1?.p50us, d1?.p50us)),
    check("unary 1 MiB: tunnel ÷ direct", "≥1.0", get("unary 1 MiB x4", "tunnel")?.ratioVsDirect ?? null),
    check(
      "server-streaming 64 B: tunnel ÷ direct",
      "≥1.0",
      get("server-stream 64 B", "tunnel")?.ratioVsDirect ?? null,
    ),
    check(
      "through the fake proxy ÷ without proxy (unary 64 B x64)",
      "≥0.6",
      get("unary 64 B x64", "proxy")?.ratioVsTunnel ?? null,
    ),
    check(
      `${s?.plugins ?? "?"} plugins: operator RSS per idle session (KiB)`,
      "≤64",
      s?.rssPerSessionKiB ?? null,
    ),
    check(`${s?.plugins ?? "?"} plugins: all registered (ms)`, "≤5000", s?.registerAllMs ?? null),
    check(`${s?.plugins ?? "?"} plugins: fan-out call to all (ms)`, "≤1000", s?.fanOutMs ?? null),
  ];
}

export function targetTable(list: Target[]): string {
  return [
    "| target | goal | this run | met |",
    "|---|---:|---:|---|",
    ...list.map(
      (t) =>
        `| ${t.what} | ${t.goal.replace(/^(.)/, "$1 ")} | ${fmt(t.value, 2)} | ${t.met === null ? "not measured" : t.met ? "met" : "NOT met"} |`,
    ),
  ].join("\n");
}
