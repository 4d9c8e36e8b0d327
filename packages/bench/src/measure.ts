// Runs one scenario against every variant, interleaved over rounds, and
// takes each process's CPU time around every run. Runs in the parent, which
// stays idle while a run is measured.
import type { Round } from "./caller.js";
import type { ScenarioSpec } from "./scenarios.js";
import type { VariantName } from "./variants.js";
import type { Worker } from "./worker-pool.js";

/** Where the ends of a call run: separate processes (production) or one. */
export interface Layout {
  name: "separate-processes" | "one-process";
  caller: Worker;
  /** Undefined in the one-process layout: the caller's CPU then covers both ends. */
  callee: Worker | undefined;
  /** The fake kube-rbac-proxy's process, if it has one of its own. */
  proxy: Worker | undefined;
}

/** A run with the CPU time of every process involved, µs. */
export interface MeasuredRound extends Round {
  calleeCpuUs: number | null;
  proxyCpuUs: number | null;
}

/** The runs of one variant, indexed by round; null where it did not run. */
export interface VariantRuns {
  variant: VariantName;
  rounds: (MeasuredRound | null)[];
  error?: string;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0]!;

const cpuOf = (w: Worker | undefined) => (w ? w.call<number>("cpu") : Promise.resolve(null));

async function measuredRun(layout: Layout, spec: ScenarioSpec, variant: VariantName): Promise<MeasuredRound> {
  const proxy = variant === "proxy" ? layout.proxy : undefined;
  const [callee0, proxy0] = await Promise.all([cpuOf(layout.callee), cpuOf(proxy)]);
  const round = await layout.caller.call<Round>("run", { spec, variant }, spec.maxMs * 3 + 30_000);
  const [callee1, proxy1] = await Promise.all([cpuOf(layout.callee), cpuOf(proxy)]);
  return {
    ...round,
    calleeCpuUs: callee0 === null || callee1 === null ? null : callee1 - callee0,
    proxyCpuUs: proxy0 === null || proxy1 === null ? null : proxy1 - proxy0,
  };
}

/**
 * Warms every variant up, then runs them in `rounds` rounds, rotating the
 * order each round so that drift (other load, GC, thermal) hits all alike.
 * A variant that fails keeps its error and sits out the remaining rounds.
 */
export async function measureScenario(
  layout: Layout,
  spec: ScenarioSpec,
  variants: readonly VariantName[],
  rounds: number,
  log: (line: string) => void,
): Promise<VariantRuns[]> {
  const all: VariantRuns[] = variants.map((variant) => ({ variant, rounds: [] }));
  for (const runs of all) {
    await layout.caller
      .call("run", { spec, variant: runs.variant, warm: true }, spec.maxMs * 3 + 30_000)
      .catch((err) => {
        runs.error = `warm-up: ${message(err)}`;
      });
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const runs = all[(round + k) % all.length]!;
      if (runs.error) {
        runs.rounds[round] = null;
        continue;
      }
      try {
        runs.rounds[round] = await measuredRun(layout, spec, runs.variant);
      } catch (err) {
        runs.rounds[round] = null;
        runs.error = message(err);
      }
    }
    log(`  ${spec.name} (${layout.name}): round ${round + 1}/${rounds}`);
  }
  return all;
}
