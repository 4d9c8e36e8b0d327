import { closedLoop, type RunResult, timed } from "./loop.js";
import type { Variant, VariantName } from "./variants.js";

/** One workload, as plain data so the parent can send it to the caller process. */
export type ScenarioSpec =
  | {
      kind: "unary";
      name: string;
      bytes: number;
      inflight: number;
      /** Calls of the warm-up run. */
      warm: number;
      count: number;
      maxMs: number;
    }
  | { kind: "stream"; name: string; count: number; maxMs: number };

/** The mixed-load scenario: 64 B unary calls, idle and while a bulk transfer runs on the same session. */
export interface MixedSpec {
  name: string;
  /** The transfer: this many server-streamed messages of `chunkBytes`. */
  chunks: number;
  chunkBytes: number;
  /** Calls of the idle measurement. */
  idleCount: number;
  maxMs: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every variant runs every scenario; the kube-rbac-proxy variant where the testkit's proxy is available. */
export const VARIANTS: readonly VariantName[] = [
  "direct",
  "tunnel",
  "call",
  "proxy",
  "observed",
  "sampled",
  "floor",
];

/** The scenario where the observed variants run: the one their target (issue 13) is judged on. */
export const OBSERVED_SCENARIO = "unary 64 B x64";

/** The variants of `VARIANTS` a scenario runs, of those the layout could set up. */
export function scenarioVariants(spec: ScenarioSpec, available: readonly VariantName[]): VariantName[] {
  return VARIANTS.filter(
    (v) =>
      available.includes(v) && ((v !== "observed" && v !== "sampled") || spec.name === OBSERVED_SCENARIO),
  );
}

/** Runs one scenario once against one variant (also the warm-up, with `warm`). */
export function runScenario(spec: ScenarioSpec, variant: Variant, warm = false): Promise<RunResult> {
  if (spec.kind === "unary") {
    const call = variant.unary(spec.bytes, spec.bytes);
    const bounds = warm ? { count: spec.warm, maxMs: spec.maxMs } : spec;
    return closedLoop(call, spec.inflight, bounds);
  }
  const count = warm ? Math.ceil(spec.count / 10) : spec.count;
  return timed(() => variant.stream(count, spec.maxMs));
}

const unary = (name: string, bytes: number, inflight: number, warm: number, count: number, maxMs: number) =>
  ({ kind: "unary", name, bytes, inflight, warm, count, maxMs }) as const;

/** The scenarios; `quick` shrinks every count so that the whole suite fits a CI step. */
export function scenarios(quick: boolean): ScenarioSpec[] {
  if (quick) {
    return [
      unary("unary 64 B x1", 64, 1, 100, 400, 250),
      unary("unary 64 B x64", 64, 64, 512, 3_000, 250),
      unary("unary 1 MiB x4", MiB, 4, 4, 16, 500),
      { kind: "stream", name: "server-stream 64 B", count: 5_000, maxMs: 1_000 },
    ];
  }
  return [
    unary("unary 64 B x1", 64, 1, 2_000, 20_000, 2_000),
    unary("unary 64 B x64", 64, 64, 10_000, 100_000, 2_000),
    unary("unary 1 MiB x4", MiB, 4, 40, 400, 3_000),
    { kind: "stream", name: "server-stream 64 B", count: 100_000, maxMs: 10_000 },
  ];
}

/** The mixed-load scenario: 64 MiB in 1 MiB messages (16 MiB in quick mode). */
export function mixedScenario(quick: boolean): MixedSpec {
  return quick
    ? {
        name: "mixed: 64 B unary x1 during 16 MiB transfer",
        chunks: 16,
        chunkBytes: MiB,
        idleCount: 300,
        maxMs: 2_000,
      }
    : {
        name: "mixed: 64 B unary x1 during 64 MiB transfer",
        chunks: 64,
        chunkBytes: MiB,
        idleCount: 1_000,
        maxMs: 10_000,
      };
}
