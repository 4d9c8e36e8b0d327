import { type Bounds, closedLoop, type RunResult, timed } from "./loop.js";
import type { Variant } from "./variants.js";

/** One workload, run the same way against every variant. */
export interface Scenario {
  name: string;
  /** What an "op" is, for the table. */
  unit: "call" | "msg";
  warmup(variant: Variant): Promise<unknown>;
  run(variant: Variant): Promise<RunResult>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

function unary(name: string, bytes: number, inflight: number, warm: number, bounds: Bounds): Scenario {
  return {
    name,
    unit: "call",
    warmup: (v) => closedLoop(v.unary(bytes, bytes), inflight, { count: warm, maxMs: bounds.maxMs }),
    run: (v) => closedLoop(v.unary(bytes, bytes), inflight, bounds),
  };
}

function streaming(name: string, count: number, maxMs: number): Scenario {
  return {
    name,
    unit: "msg",
    warmup: (v) => v.stream(Math.ceil(count / 10), maxMs),
    run: (v) => timed(() => v.stream(count, maxMs)),
  };
}

/** The scenarios; `quick` shrinks every count so the whole suite takes seconds. */
export function scenarios(quick: boolean): Scenario[] {
  if (quick) {
    return [
      unary("unary 64 B x1", 64, 1, 50, { count: 200, maxMs: 250 }),
      unary("unary 64 B x64", 64, 64, 256, { count: 1_000, maxMs: 250 }),
      unary("unary 1 MiB x4", MiB, 4, 4, { count: 8, maxMs: 500 }),
      streaming("server-stream 64 B", 2_000, 2_000),
    ];
  }
  return [
    unary("unary 64 B x1", 64, 1, 2_000, { count: 20_000, maxMs: 2_000 }),
    unary("unary 64 B x64", 64, 64, 10_000, { count: 100_000, maxMs: 2_000 }),
    unary("unary 1 MiB x4", MiB, 4, 40, { count: 400, maxMs: 3_000 }),
    streaming("server-stream 64 B", 100_000, 15_000),
  ];
}
