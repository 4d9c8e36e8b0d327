import type { Layout, MeasuredRound, VariantRuns } from "./measure.js";
import type { ScenarioSpec } from "./scenarios.js";
import { median, pairedRatios, type Range, spreadPct } from "./stats.js";
import type { VariantName } from "./variants.js";

/** One variant of one scenario, as in bench-results.json. */
export interface ScenarioResult {
  name: string;
  variant: VariantName;
  unit: "call" | "msg";
  layout: Layout["name"];
  runs: number;
  /** Median of the rounds' rates. */
  opsPerSec: number | null;
  /** (max - min) / median of the rounds' rates, percent. */
  spreadPct: number | null;
  /** Medians of the rounds' p50 and p99 latencies, µs (unary only). */
  p50us: number | null;
  p99us: number | null;
  /** Medians of the per-round paired ratios of the rates; their spread is in `ratioSpread`. */
  ratioVsDirect: number | null;
  ratioVsFloor: number | null;
  /** Proxy, call and observed variants (both samplings): their rate over the plain tunnel's (generated client). */
  ratioVsTunnel?: number | null;
  /** The per-round paired ratios: median, min and max. `p50VsDirect` is a latency ratio (lower is better). */
  ratioSpread: {
    vsDirect: Range | null;
    vsFloor: Range | null;
    vsTunnel?: Range | null;
    vsCall?: Range | null;
    p50VsDirect?: Range | null;
  };
  /** CPU time per op of each process, µs, median over the rounds (one-process layout: all in `caller`). */
  cpuUsPerCall: { caller: number | null; callee: number | null; proxy?: number | null };
  error?: string;
}

const rate = (r: MeasuredRound | null) => (r ? (r.ops / r.elapsedMs) * 1000 : null);
const per = (r: MeasuredRound | null, cpu: number | null | undefined) =>
  r && cpu !== null && cpu !== undefined && r.ops > 0 ? cpu / r.ops : null;
const present = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
const medianOrNull = (values: (number | null)[]) => {
  const v = present(values);
  return v.length ? median(v) : null;
};

/** Turns the rounds of every variant into the rows of bench-results.json. */
export function summarize(spec: ScenarioSpec, layout: Layout["name"], all: VariantRuns[]): ScenarioResult[] {
  const byName = new Map(all.map((x) => [x.variant, x]));
  const rates = (name: VariantName) => (byName.get(name)?.rounds ?? []).map(rate);
  const p50s = (name: VariantName) => (byName.get(name)?.rounds ?? []).map((r) => r?.p50us ?? null);
  return all.map((x) => {
    const own = x.rounds.map(rate);
    const ok = present(own);
    const ratioSpread: ScenarioResult["ratioSpread"] = {
      vsDirect: pairedRatios(own, rates("direct")),
      vsFloor: pairedRatios(own, rates("floor")),
    };
    if (["proxy", "call", "observed", "sampled"].includes(x.variant))
      ratioSpread.vsTunnel = pairedRatios(own, rates("tunnel"));
    if (x.variant === "tunnel") ratioSpread.vsCall = pairedRatios(own, rates("call"));
    if (spec.kind === "unary") ratioSpread.p50VsDirect = pairedRatios(p50s(x.variant), p50s("direct"));
    const proxyCpu = medianOrNull(x.rounds.map((r) => per(r, r?.proxyCpuUs)));
    return {
      name: spec.name,
      variant: x.variant,
      unit: spec.kind === "unary" ? "call" : "msg",
      layout,
      runs: ok.length,
      opsPerSec: ok.length ? median(ok) : null,
      spreadPct: ok.length ? spreadPct(ok) : null,
      p50us: medianOrNull(x.rounds.map((r) => r?.p50us ?? null)),
      p99us: medianOrNull(x.rounds.map((r) => r?.p99us ?? null)),
      ratioVsDirect: ratioSpread.vsDirect?.median ?? null,
      ratioVsFloor: ratioSpread.vsFloor?.median ?? null,
      ...(ratioSpread.vsTunnel !== undefined ? { ratioVsTunnel: ratioSpread.vsTunnel?.median ?? null } : {}),
      ratioSpread,
      cpuUsPerCall: {
        caller: medianOrNull(x.rounds.map((r) => per(r, r?.cpuUs))),
        callee: medianOrNull(x.rounds.map((r) => per(r, r?.calleeCpuUs))),
        ...(proxyCpu !== null ? { proxy: proxyCpu } : {}),
      },
      ...(x.error ? { error: x.error } : {}),
    };
  });
}
