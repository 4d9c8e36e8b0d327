/** The part of a prom-client Counter this module uses (wire does not depend on prom-client). */
export interface PromCounterLike {
  inc(labels: Record<string, string>, value?: number): void;
  /** prom-client calls it first in every `get()`, so in every scrape. */
  collect?: () => unknown;
}

/** One series of a deferred counter: the hot path adds to `value`. */
export interface CounterCell {
  value: number;
}

interface Cell extends CounterCell {
  readonly labels: Record<string, string>;
}

/**
 * A prom-client counter whose increments are added up in plain numbers and
 * handed to prom-client when it is read. prom-client's `inc(labels)` builds a
 * string key from the labels and validates them on every call, which costs
 * more than the rest of a call's metrics; here a call adds to a field of a
 * cell it looked up once, and the collect hook (run by every `get()`, so by
 * every scrape and `registry.metrics()`) makes one `inc` per moved series.
 *
 * Cells are kept per label set, so there are as many as the counter has
 * series (bounded by the callers' label bounds), and they are never dropped,
 * as prom-client never drops a series either.
 */
export class DeferredCounter {
  private readonly cells = new Map<string, Cell>();

  private constructor(private readonly counter: PromCounterLike) {
    const previous = counter.collect;
    counter.collect = () => {
      this.flush();
      return previous?.call(counter);
    };
  }

  /**
   * The deferred view of `counter`: one per counter, so that two servers in
   * one process sharing a metric also share its cells.
   */
  static of(counter: PromCounterLike): DeferredCounter {
    let deferred = instances.get(counter);
    if (!deferred) {
      deferred = new DeferredCounter(counter);
      instances.set(counter, deferred);
    }
    return deferred;
  }

  /**
   * The cell of one label set. Look it up once (per method, per session...)
   * and keep it: the lookup builds a key, the increment does not.
   */
  cell(labels: Record<string, string>): CounterCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { labels, value: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** Hands every pending increment to prom-client. */
  flush(): void {
    for (const cell of this.cells.values()) {
      if (cell.value === 0) continue;
      this.counter.inc(cell.labels, cell.value);
      cell.value = 0;
    }
  }
}

const instances = new WeakMap<PromCounterLike, DeferredCounter>();

/** The highest gRPC status code (UNAUTHENTICATED). */
const MAX_CODE = 16;

/**
 * The cells of one method's "handled" series, one per status code, looked up
 * at a code's first use: `labels` plus `code`, named by `codeName`.
 */
export class CodeCells {
  // Indexed by code, 0 to 16; other codes are rare and looked up each time.
  private readonly byCode: CounterCell[] = [];

  constructor(
    private readonly counter: DeferredCounter,
    readonly labels: Record<string, string>,
    private readonly codeName: (code: number) => string,
  ) {}

  cell(code: number): CounterCell {
    const known = code >= 0 && code <= MAX_CODE;
    const cached = known ? this.byCode[code] : undefined;
    if (cached) return cached;
    const made = this.counter.cell({ ...this.labels, code: this.codeName(code) });
    if (known) this.byCode[code] = made;
    return made;
  }
}
