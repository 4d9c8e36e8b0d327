import { status } from "@grpc/grpc-js";
import type { CallObserver, DrainCause, SessionObserver } from "@operator-plugin-framework/wire";
import {
  CellHistogram,
  CodeCells,
  type CounterCell,
  DeferredCounter,
  type HistogramCell,
  LabelBound,
  type MethodHandler,
  OTHER,
} from "@operator-plugin-framework/wire";
import { type CallLabels, hostCallLabels, methodLabels } from "./call-labels.js";
import type { PromClientModule, PromRegistry } from "./prom-types.js";
import type { ObservedSession, ServerObserver } from "./server-observer.js";

/** Distinct plugin names with series of their own; later names are counted as `other`. */
export const MAX_PLUGIN_LABELS = 1_000;
/** Distinct announced method paths, server-wide, with series of their own. */
export const MAX_METHOD_LABELS = 2_000;
/** Call-duration buckets, in seconds: 1 ms to 30 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const CALL_LABELS = ["plugin", "service", "method", "type", "caller"] as const;
type SessionState = "active" | "retiring" | "draining";

/** The name of a gRPC status code, "OK", "NOT_FOUND"...; the label value of `code`. */
export function codeName(code: number): string {
  return status[code] ?? "UNKNOWN";
}

/**
 * The operator's Prometheus metrics, fed by the observer hooks of sessions and
 * calls. Metrics already in the registry under the same name (a second server
 * in one process) are shared rather than registered twice.
 */
export function createPromServerObserver(prom: PromClientModule, registry: PromRegistry): ServerObserver {
  const get = <T>(name: string, create: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? create();
  const registers = [registry];
  const sessions = get(
    "pluginframework_sessions",
    () =>
      new prom.Gauge({
        name: "pluginframework_sessions",
        help: "Plugin sessions open now, by plugin and state (active, retiring, draining).",
        labelNames: ["plugin", "state"],
        registers,
      }),
  );
  const counter = (name: string, help: string, labelNames: readonly string[]) =>
    get(name, () => new prom.Counter({ name, help, labelNames, registers }));
  const registrations = counter(
    "pluginframework_registrations_total",
    "Plugin streams admitted as sessions.",
    ["plugin"],
  );
  const refusals = counter(
    "pluginframework_refusals_total",
    "Plugin streams ended before registration, by status code name, or by the cap that refused them " +
      "(unregistered_streams_per_connection, unregistered_streams, sessions_per_identity).",
    ["reason"],
  );
  const started = counter(
    "pluginframework_calls_started_total",
    "Calls started on plugin sessions: by the operator (caller=operator) or by the plugin, to a host service (caller=plugin).",
    CALL_LABELS,
  );
  const handled = counter(
    "pluginframework_calls_handled_total",
    "Calls on plugin sessions completed, by caller and status code.",
    [...CALL_LABELS, "code"],
  );
  // Observed on every call: kept in plain numbers, not through prom-client's Histogram (see CellHistogram).
  const duration = CellHistogram.register(registry, {
    name: "pluginframework_call_duration_seconds",
    help: "Time from the start of a call on a plugin session to its status, by caller.",
    buckets: DURATION_BUCKETS,
  });
  const messages = counter(
    "pluginframework_messages_total",
    "Messages of calls, by direction (sent to or received from plugins); counted when a call ends.",
    ["plugin", "direction"],
  );
  const bytes = counter(
    "pluginframework_message_bytes_total",
    "Serialized message bytes of calls, by direction; counted when a call ends.",
    ["plugin", "direction"],
  );
  const stalls = counter(
    "pluginframework_flow_control_stall_seconds_total",
    "Time calls had data to send but waited for the plugin's flow-control window.",
    ["plugin"],
  );
  const livenessFailures = counter(
    "pluginframework_liveness_failures_total",
    "Sessions cut because the plugin did not answer liveness pings.",
    ["plugin"],
  );
  const drains = counter(
    "pluginframework_drains_total",
    "Sessions drained, by cause (operator, max_age, plugin).",
    ["plugin", "cause"],
  );
  const plugins = new LabelBound(MAX_PLUGIN_LABELS);
  const methods = new LabelBound(MAX_METHOD_LABELS);

  const startedCells = DeferredCounter.of(started);
  const handledCells = DeferredCounter.of(handled);
  const messageCells = DeferredCounter.of(messages);
  const byteCells = DeferredCounter.of(bytes);
  const stallCells = DeferredCounter.of(stalls);

  /** The series of one method of one session, made at its first call. */
  class MethodSeries {
    readonly started: CounterCell;
    readonly handled: CodeCells;
    readonly duration: HistogramCell;
    constructor(readonly labels: CallLabels) {
      this.started = startedCells.cell(labels);
      this.handled = new CodeCells(handledCells, labels, codeName);
      this.duration = duration.cell(labels);
    }
  }

  /** The per-plugin series a session's calls add their sizes and stalls to. */
  class TrafficSeries {
    readonly sentMessages: CounterCell;
    readonly sentBytes: CounterCell;
    readonly receivedMessages: CounterCell;
    readonly receivedBytes: CounterCell;
    readonly stalledSeconds: CounterCell;
    constructor(plugin: string) {
      this.sentMessages = messageCells.cell({ plugin, direction: "sent" });
      this.sentBytes = byteCells.cell({ plugin, direction: "sent" });
      this.receivedMessages = messageCells.cell({ plugin, direction: "received" });
      this.receivedBytes = byteCells.cell({ plugin, direction: "received" });
      this.stalledSeconds = stallCells.cell({ plugin });
    }
  }

  /**
   * One call. Counters are deferred cells (see DeferredCounter) and the
   * duration a histogram cell (see CellHistogram), so the hot path adds numbers.
   */
  class PromCall implements CallObserver {
    private readonly startedAt = performance.now();

    constructor(
      private readonly series: MethodSeries,
      private readonly traffic: TrafficSeries,
    ) {
      series.started.value++;
    }
    messageSent(size: number): void {
      this.traffic.sentMessages.value++;
      this.traffic.sentBytes.value += size;
    }
    messageReceived(size: number): void {
      this.traffic.receivedMessages.value++;
      this.traffic.receivedBytes.value += size;
    }
    flowStalled(ms: number): void {
      this.traffic.stalledSeconds.value += ms / 1000;
    }
    end(code: number): void {
      const series = this.series;
      series.handled.cell(code).value++;
      series.duration.observe((performance.now() - this.startedAt) / 1000);
    }
  }

  class PromSession implements SessionObserver {
    private state: SessionState = "active";
    private open = true;
    private readonly byPath: Map<string, CallLabels>;
    private readonly other: CallLabels;
    /** The series of the methods called so far: at most the announced ones, plus `other`. */
    private readonly series = new Map<CallLabels, MethodSeries>();
    /** Labels of the host services' methods this plugin called (only served ones reach here). */
    private readonly hostByPath = new Map<string, CallLabels>();
    private readonly traffic: TrafficSeries;

    constructor(
      private readonly plugin: string,
      session: ObservedSession,
    ) {
      // A plugin over the bound gets no method labels either: its series stay few.
      const announced = plugin === OTHER ? [] : session.services;
      ({ byPath: this.byPath, other: this.other } = methodLabels(plugin, announced, methods));
      this.traffic = new TrafficSeries(plugin);
      registrations.inc({ plugin });
      sessions.inc({ plugin, state: this.state });
    }
    callStarted(method: string): CallObserver {
      return this.start(this.byPath.get(method) ?? this.other);
    }
    hostCallStarted(method: string, kind: MethodHandler["kind"]): CallObserver {
      let labels = this.hostByPath.get(method);
      if (!labels) {
        labels = hostCallLabels(this.plugin, method, kind, methods);
        this.hostByPath.set(method, labels);
      }
      return this.start(labels);
    }
    private start(labels: CallLabels): CallObserver {
      let series = this.series.get(labels);
      if (!series) {
        series = new MethodSeries(labels);
        this.series.set(labels, series);
      }
      return new PromCall(series, this.traffic);
    }
    drained(cause: DrainCause): void {
      drains.inc({ plugin: this.plugin, cause });
      this.move(cause === "max_age" ? "retiring" : "draining");
    }
    livenessFailed(): void {
      livenessFailures.inc({ plugin: this.plugin });
    }
    closed(): void {
      if (!this.open) return;
      this.open = false;
      sessions.dec({ plugin: this.plugin, state: this.state });
    }
    private move(state: SessionState): void {
      if (!this.open || state === this.state || this.state === "draining") return;
      sessions.dec({ plugin: this.plugin, state: this.state });
      sessions.inc({ plugin: this.plugin, state });
      this.state = state;
    }
  }

  return {
    sessionOpened: (session) => new PromSession(plugins.value(session.name), session),
    refused: (code, reason) => refusals.inc({ reason: reason ?? codeName(code) }),
  };
}
