/** The q-quantile (0..1) of values, nearest-rank on a sorted copy. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: ArrayLike<number>) => quantile(values, 0.5);

/** Spread of runs as (max - min) / median, in percent. */
export function spreadPct(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  return m === 0 ? 0 : ((Math.max(...values) - Math.min(...values)) / m) * 100;
}

/** A median with the smallest and largest value it was taken from. */
export interface Range {
  median: number;
  min: number;
  max: number;
}

/** Median, min and max; null for no values. */
export function range(values: readonly number[]): Range | null {
  if (values.length === 0) return null;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * Per-round ratios a[i] / b[i] of two variants measured in the same rounds,
 * skipping rounds where either is missing: pairing cancels the drift that
 * hits both variants of one round alike (other load on the machine, GC).
 */
export function pairedRatios(a: readonly (number | null)[], b: readonly (number | null)[]): Range | null {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && x !== undefined && y) ratios.push(x / y);
  }
  return range(ratios);
}
