/** Reconnection backoff: full jitter over capped exponential growth. */
export interface Backoff {
  /** The cap after the first failure. */
  initialMs: number;
  /** The cap never grows past this. */
  maxMs: number;
  /** How much the cap grows per failure. */
  multiplier: number;
}

/** The defaults of `connectPlugin`'s `backoff` option: 100 ms, growing ×2 up to 10 s. */
export const DEFAULT_BACKOFF: Readonly<Backoff> = { initialMs: 100, maxMs: 10_000, multiplier: 2 };

/** Fills in the defaults; an option given as `undefined` takes its default too. */
export function backoffWithDefaults(backoff: Partial<Backoff> | undefined): Backoff {
  return {
    initialMs: backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
    maxMs: backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
    multiplier: backoff?.multiplier ?? DEFAULT_BACKOFF.multiplier,
  };
}

/**
 * The wait before the next attempt after `failures` failures in a row (1 or
 * more): a uniformly random time up to `initialMs × multiplier^(failures-1)`,
 * capped at `maxMs`. Full jitter spreads a fleet of plugins that lost the
 * same operator, so they do not all come back in the same instant.
 */
export function backoffDelay(backoff: Backoff, failures: number, random: () => number = Math.random): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, failures - 1));
  return Math.round(random() * cap);
}
