import { performance } from "node:perf_hooks";

/** What one measured run produced. */
export interface RunResult {
  /** Operations completed (calls, or messages for streaming). */
  ops: number;
  /** Wall time of the run, ms. */
  elapsedMs: number;
  /** Per-operation latency in µs (empty when not meaningful, e.g. streaming). */
  latenciesUs: Float64Array;
}

/** Limits of one run: it stops at whichever comes first. */
export interface Bounds {
  count: number;
  maxMs: number;
}

/**
 * Closed loop: `inflight` workers each issue `call()` back to back until
 * `count` calls have been issued or `maxMs` has passed. Rejects if a call
 * fails, or if the calls in flight do not settle within `maxMs` + 10 s more (a stall).
 */
export function closedLoop(call: () => Promise<void>, inflight: number, bounds: Bounds): Promise<RunResult> {
  const latencies = new Float64Array(bounds.count);
  const start = performance.now();
  const stopAt = start + bounds.maxMs;
  let issued = 0;
  let done = 0;
  return new Promise<RunResult>((resolve, reject) => {
    let failed = false;
    let active = 0;
    // Generous: on a loaded machine a 1 MiB call can take a second; only a real stall should end a run.
    const stallMs = 2 * bounds.maxMs + 10_000;
    const watchdog = setTimeout(() => {
      failed = true;
      reject(new Error(`stalled: ${active} calls did not settle within ${stallMs} ms`));
    }, stallMs);
    const finish = () => {
      clearTimeout(watchdog);
      resolve({ ops: done, elapsedMs: performance.now() - start, latenciesUs: latencies.subarray(0, done) });
    };
    const next = () => {
      if (failed) return;
      if (issued >= bounds.count || (issued > 0 && performance.now() >= stopAt)) {
        if (--active === 0) finish();
        return;
      }
      issued++;
      const t0 = performance.now();
      call().then(
        () => {
          latencies[done++] = (performance.now() - t0) * 1000;
          next();
        },
        (err: unknown) => {
          if (failed) return;
          failed = true;
          clearTimeout(watchdog);
          reject(err);
        },
      );
    };
    active = inflight;
    for (let i = 0; i < inflight; i++) next();
  });
}

/** Times one bulk operation (a stream) that reports how many ops it completed; latency is not per message. */
export async function timed(run: () => Promise<number>): Promise<RunResult> {
  const start = performance.now();
  const ops = await run();
  return { ops, elapsedMs: performance.now() - start, latenciesUs: new Float64Array(0) };
}

/**
 * One call at a time, until `until` settles (or, without it, `count` calls),
 * bounded by `maxMs`; resolves with every call's latency in µs. A failed
 * `until` is its caller's to handle: it only ends the loop here.
 */
export async function sequentialUntil(
  call: () => Promise<void>,
  until: Promise<unknown> | undefined,
  count: number,
  maxMs: number,
): Promise<number[]> {
  let done = false;
  until?.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  const latencies: number[] = [];
  const stopAt = performance.now() + maxMs;
  while (!done && latencies.length < count && performance.now() < stopAt) {
    const t0 = performance.now();
    await call();
    latencies.push((performance.now() - t0) * 1000);
  }
  return latencies;
}
