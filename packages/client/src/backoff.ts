/** Reconnection backoff: capped exponential growth with jitter above half the cap, and a fast first retry after a healthy session. */
export interface Backoff {
  /** The cap after the first failure. */
  initialMs: number;
  /** The cap never grows past this. */
  maxMs: number;
  /** How much the cap grows per failure. */
  multiplier: number;
  /** After a healthy session ends, the first attempt waits a random time up to this (and never past `maxMs`). */
  firstRetryMs: number;
  /** A session that stayed registered at least this long counts as healthy. */
  healthyAfterMs: number;
}

/**
 * The defaults of `connectPlugin`'s `backoff` option: 100 ms, growing ×2 up
 * to 10 s; after a session that stayed registered for 5 s, the first retry
 * within 300 ms.
 */
export const DEFAULT_BACKOFF: Readonly<Backoff> = {
  initialMs: 100,
  maxMs: 10_000,
  multiplier: 2,
  firstRetryMs: 300,
  healthyAfterMs: 5_000,
};

/** Fills in the defaults; an option given as `undefined` takes its default too. */
export function backoffWithDefaults(backoff: Partial<Backoff> | undefined): Backoff {
  return {
    initialMs: backoff?.initialMs ?? DEFAULT_BACKOFF.initialMs,
    maxMs: backoff?.maxMs ?? DEFAULT_BACKOFF.maxMs,
    multiplier: backoff?.multiplier ?? DEFAULT_BACKOFF.multiplier,
    firstRetryMs: backoff?.firstRetryMs ?? DEFAULT_BACKOFF.firstRetryMs,
    healthyAfterMs: backoff?.healthyAfterMs ?? DEFAULT_BACKOFF.healthyAfterMs,
  };
}

/**
 * The wait before the next attempt after `failures` failures in a row (1 or
 * more): a uniformly random time between half of `initialMs ×
 * multiplier^(failures-1)` and all of it, capped at `maxMs`. The jitter
 * spreads a fleet of plugins that lost the same operator, so they do not all
 * come back in the same instant. Its floor at half the cap bounds how long a
 * plugin stays away after the operator returns: with full jitter (from zero),
 * a run of short draws burnt through failures during a 1 s restart and left
 * some plugins a 3.2 s cap, so one run in ten came back after more than 3 s.
 * With the floor, the failures during an outage of T ms add up to at least
 * half their caps, so the next cap is below 2T + `initialMs` (with the
 * default ×2) and a plugin is back within that after the operator is.
 */
export function backoffDelay(
  backoff: Pick<Backoff, "initialMs" | "maxMs" | "multiplier">,
  failures: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** Math.max(0, failures - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Options of {@link createReconnectSchedule}; the clock and the random source are there for tests. */
export interface ReconnectScheduleOptions {
  backoff: Backoff;
  /** A monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
  /** Uniform in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** When one operator address is tried next: the reconnect policy of a plugin's link. */
export interface ReconnectSchedule {
  /** Attempts that failed since the last healthy session (or drain). */
  readonly failures: number;
  /** The operator admitted the plugin now. */
  registered(): void;
  /** The attempt or session ended; returns how long to wait before the next attempt, ms. */
  ended(): number;
  /**
   * The operator asked the plugin to re-register (a drain): a fresh start,
   * failures forgotten. Returns how long to wait before registering again, a
   * random time up to `firstRetryMs` (never past `maxMs`): an operator that
   * stops drains every plugin in the same instant, and the fleet must not
   * arrive at its successor in that instant too. The drained stream goes on
   * serving meanwhile.
   */
  drained(): number;
}

/**
 * The reconnect policy. A session that stayed registered for
 * `healthyAfterMs` and then ended most likely lost an operator that is
 * restarting or moving: the first retry comes after a random wait up to
 * `firstRetryMs` (spread, so that a fleet does not arrive in one instant),
 * then the normal backoff from `initialMs`. Anything else (a failed attempt,
 * or a session that ended soon after it registered) counts as one more
 * failure, so an operator that admits and then drops a plugin at once is
 * never retried in a hot loop.
 */
export function createReconnectSchedule(options: ReconnectScheduleOptions): ReconnectSchedule {
  const { backoff, now = () => performance.now(), random = Math.random } = options;
  let failures = 0;
  let registeredAt: number | undefined;
  return {
    get failures() {
      return failures;
    },
    registered() {
      registeredAt = now();
    },
    ended() {
      const healthy = registeredAt !== undefined && now() - registeredAt >= backoff.healthyAfterMs;
      registeredAt = undefined;
      if (healthy) {
        failures = 0;
        return Math.round(random() * Math.min(backoff.firstRetryMs, backoff.maxMs));
      }
      failures++;
      return backoffDelay(backoff, failures, random);
    },
    drained() {
      failures = 0;
      registeredAt = undefined;
      return Math.round(random() * Math.min(backoff.firstRetryMs, backoff.maxMs));
    },
  };
}
