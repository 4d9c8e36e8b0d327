/**
 * The part of a prom-client Registry a {@link CellHistogram} registers in
 * (wire does not depend on prom-client).
 */
export interface MetricRegistryLike {
  getSingleMetric(name: string): unknown;
  /** Typed `never` so that prom-client's Registry, which takes its own Metric type, fits. */
  registerMetric(metric: never): void;
}

/** One series of a cell histogram: the hot path observes into it. */
export interface HistogramCell {
  /** Adds one observation, in the histogram's unit (seconds for durations). */
  observe(value: number): void;
}

/**
 * What a cell histogram is made of, as prom-client's Histogram takes it. The
 * label names are those of the label sets given to `cell()`.
 */
export interface CellHistogramOptions {
  name: string;
  help: string;
  /** Upper bounds, increasing; +Inf is implied. */
  buckets: readonly number[];
}

/** One series, as prom-client's registry reads a metric's values. */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
  sharedLabels?: Record<string, string>;
  /** prom-client's buckets carry one (null: this histogram keeps no exemplars). */
  exemplar?: null;
}

class Cell implements HistogramCell {
  /** Observations per bucket, not cumulative; the last one is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram kept in plain numbers, registered in a prom-client
 * registry as a metric of its own. prom-client's `Histogram.observe(labels,
 * v)` validates the labels and builds a key from them on every call, which
 * costs more than the rest of a call's metrics, and its children
 * (`labels(...)`) do the same. Here a call looks its series' cell up once
 * and an observation is a bucket search and three additions; the registry
 * reads the cells when it is scraped. Its exposition is prom-client's own
 * (the same lines, in the same order, `aggregator: "sum"` for cluster mode).
 *
 * Cells are kept per label set, as prom-client keeps series, and never dropped.
 */
export class CellHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private readonly cells = new Map<string, Cell>();

  private constructor(options: CellHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets];
  }

  /**
   * The histogram of this name in `registry`: the one already there (a second
   * server in one process shares it), or a new one, registered.
   */
  static register(registry: MetricRegistryLike, options: CellHistogramOptions): CellHistogram {
    const existing = registry.getSingleMetric(options.name);
    if (existing instanceof CellHistogram) return existing;
    const made = new CellHistogram(options);
    registry.registerMetric(made as never);
    return made;
  }

  /**
   * The cell of one label set. Look it up once (per method, per session...)
   * and keep it: the lookup builds a key, an observation does not.
   */
  cell(labels: Record<string, string>): HistogramCell {
    const key = JSON.stringify(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = new Cell(labels, this.bounds);
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** The values as prom-client's text exposition reads them: `le` first, then the series' labels. */
  async getForPromString() {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const cell of this.cells.values()) {
      const shared = cell.labels;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({
          value: cumulative,
          labels: { le: this.bounds[i]! },
          metricName: bucket,
          sharedLabels: shared,
          exemplar: null,
        });
      }
      values.push(
        {
          value: cell.count,
          labels: { le: "+Inf" },
          metricName: bucket,
          sharedLabels: shared,
          exemplar: null,
        },
        { value: cell.sum, labels: {}, metricName: `${this.name}_sum`, sharedLabels: shared },
        { value: cell.count, labels: {}, metricName: `${this.name}_count`, sharedLabels: shared },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The values as prom-client's `getMetricsAsJSON()` returns them: one label set per value. */
  async get() {
    const metric = await this.getForPromString();
    return {
      ...metric,
      values: metric.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  /** Forgets every observation, as prom-client's `registry.resetMetrics()` asks. */
  reset(): void {
    for (const cell of this.cells.values()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}
