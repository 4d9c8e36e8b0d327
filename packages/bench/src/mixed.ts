// The mixed-load scenario, from the parent: rounds of (idle calls, then calls
// during a bulk transfer on the same session), direct and tunnel interleaved.
import type { MixedRound } from "./caller.js";
import type { Layout } from "./measure.js";
import type { MixedSpec } from "./scenarios.js";
import { median, type Range, range } from "./stats.js";
import type { VariantName } from "./variants.js";

/** One variant of the mixed-load scenario, as in bench-results.json. */
export interface MixedResult {
  name: string;
  variant: VariantName;
  layout: Layout["name"];
  runs: number;
  idleP50us: number | null;
  idleP99us: number | null;
  loadedP50us: number | null;
  loadedP99us: number | null;
  /** The operator process's event-loop delay p99, idle and during transfers (median of rounds). */
  idleLoopP99us: number | null;
  loadedLoopP99us: number | null;
  /** Per-round loaded p99 ÷ idle p99: median, min, max. */
  p99Ratio: Range | null;
  transferMs: number | null;
  transfers: number | null;
  loadedCalls: number | null;
  error?: string;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;

export async function measureMixed(
  layout: Layout,
  spec: MixedSpec,
  variants: readonly VariantName[],
  rounds: number,
  log: (line: string) => void,
): Promise<MixedResult[]> {
  const runs = new Map<VariantName, { rounds: MixedRound[]; error?: string }>(
    variants.map((v) => [v, { rounds: [] }]),
  );
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(round + k) % variants.length]!;
      const r = runs.get(variant)!;
      if (r.error) continue;
      try {
        r.rounds.push(
          await layout.caller.call<MixedRound>("mixed", { spec, variant }, spec.maxMs * 3 + 30_000),
        );
      } catch (err) {
        r.error = message(err);
      }
    }
    log(`  ${spec.name}: round ${round + 1}/${rounds}`);
  }
  return variants.map((variant) => {
    const { rounds: rs, error } = runs.get(variant)!;
    const med = (f: (r: MixedRound) => number) => (rs.length ? median(rs.map(f)) : null);
    return {
      name: spec.name,
      variant,
      layout: layout.name,
      runs: rs.length,
      idleP50us: med((r) => r.idleP50us),
      idleP99us: med((r) => r.idleP99us),
      loadedP50us: med((r) => r.loadedP50us),
      loadedP99us: med((r) => r.loadedP99us),
      idleLoopP99us: med((r) => r.idleLoopP99us),
      loadedLoopP99us: med((r) => r.loadedLoopP99us),
      p99Ratio: range(rs.map((r) => r.loadedP99us / r.idleP99us)),
      transferMs: med((r) => r.transferMs),
      transfers: med((r) => r.transfers),
      loadedCalls: med((r) => r.loadedCalls),
      ...(error ? { error } : {}),
    };
  });
}
