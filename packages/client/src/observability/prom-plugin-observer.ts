import { status } from "@grpc/grpc-js";
import {
  type CallerSide,
  type CallObserver,
  CellHistogram,
  CodeCells,
  DeferredCounter,
  type HistogramCell,
  LabelBound,
  noopCallObserver,
  noopSessionObserver,
  OTHER,
  type SessionObserver,
} from "@operator-plugin-framework/wire";
import type { PromClientModule, PromRegistry } from "./prom-types.js";

/** Distinct operator addresses with series of their own (a `dns+` target resolves to many). */
export const MAX_TARGET_LABELS = 100;
/** Distinct host-service methods with series of their own; later ones are counted as `other`. */
export const MAX_HOST_METHOD_LABELS = 1_000;
/** Call-duration buckets, in seconds: 1 ms to 30 s, as on the operator. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
type MethodLabels = { service: string; method: string; caller: CallerSide };

function labelsOf(path: string, caller: CallerSide): MethodLabels {
  const slash = path.lastIndexOf("/");
  return { service: path.slice(1, slash), method: path.slice(slash + 1), caller };
}

const STATES = ["connecting", "registered", "reconnecting", "rejected", "closed"] as const;

/**
 * Starts observing one of the plugin's calls to the operator's host
 * services. `offered` tells, when the call ends, whether a registered
 * operator announced the method's service: only those get labels of their own.
 */
export type HostCallObserve = (method: string, offered: (method: string) => boolean) => CallObserver;

/** What the plugin's metrics hear: link state changes and calls. */
export interface PluginObserver {
  /** Observes the calls of every session. */
  readonly calls: SessionObserver;
  /** Observes the plugin's host calls. */
  readonly hostCall: HostCallObserve;
  /** One operator address changed state. */
  stateChanged(target: string, state: string): void;
}

/**
 * The plugin's Prometheus metrics: connection state per operator address,
 * reconnect attempts, calls handled by method and code, and their duration.
 * Only methods of registered services reach a handler, so method labels are
 * bounded by the services the plugin serves.
 */
export function createPromPluginObserver(prom: PromClientModule, registry: PromRegistry): PluginObserver {
  const registers = [registry];
  const get = <T>(name: string, create: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? create();
  const state = get(
    "pluginframework_plugin_connection_state",
    () =>
      new prom.Gauge({
        name: "pluginframework_plugin_connection_state",
        help: "1 for the state each operator address is in now (connecting, registered, reconnecting, rejected, closed), 0 for the others.",
        labelNames: ["target", "state"],
        registers,
      }),
  );
  const reconnects = get(
    "pluginframework_plugin_reconnect_attempts_total",
    () =>
      new prom.Counter({
        name: "pluginframework_plugin_reconnect_attempts_total",
        help: "Reconnections scheduled after a failed attempt, a refusal or a lost session.",
        labelNames: ["target"],
        registers,
      }),
  );
  const handled = get(
    "pluginframework_plugin_calls_handled_total",
    () =>
      new prom.Counter({
        name: "pluginframework_plugin_calls_handled_total",
        help:
          "Calls on the plugin's sessions completed, by caller (operator: calls the plugin handled; " +
          "plugin: its calls to the operator's host services) and status code.",
        labelNames: ["service", "method", "caller", "code"],
        registers,
      }),
  );
  // Observed on every call: kept in plain numbers, not through prom-client's Histogram (see CellHistogram).
  const duration = CellHistogram.register(registry, {
    name: "pluginframework_plugin_call_duration_seconds",
    help: "Time from the start of a call on the plugin's sessions (its arrival, or the host call's start) to its status.",
    buckets: DURATION_BUCKETS,
  });
  const targets = new LabelBound(MAX_TARGET_LABELS);
  const handledCells = DeferredCounter.of(handled);
  /** One method's labels and its handled counts by code, made at its first call. */
  class MethodSeries {
    readonly handled: CodeCells;
    readonly duration: HistogramCell;
    constructor(readonly labels: MethodLabels) {
      this.handled = new CodeCells(handledCells, labels, (code) => status[code] ?? "UNKNOWN");
      this.duration = duration.cell(labels);
    }
  }

  const methods = new Map<string, MethodSeries>();
  const seriesOf = (path: string) => {
    let series = methods.get(path);
    if (!series) {
      series = new MethodSeries(labelsOf(path, "operator"));
      methods.set(path, series);
    }
    return series;
  };
  const hostMethods = new Map<string, MethodSeries>();
  const hostBound = new LabelBound(MAX_HOST_METHOD_LABELS);
  const otherHost = new MethodSeries({ service: OTHER, method: OTHER, caller: "plugin" });
  const hostSeriesOf = (path: string, offered: boolean) => {
    if (!offered) return otherHost;
    let series = hostMethods.get(path);
    if (!series) {
      if (hostBound.value(path) === OTHER) return otherHost;
      series = new MethodSeries(labelsOf(path, "plugin"));
      hostMethods.set(path, series);
    }
    return series;
  };

  /** One call: the handled count is a deferred cell (see DeferredCounter); the duration is observed. */
  class PromCall implements CallObserver {
    private readonly startedAt = performance.now();
    constructor(private readonly series: MethodSeries) {}
    messageSent(): void {}
    messageReceived(): void {}
    flowStalled(): void {}
    end(code: number): void {
      this.record(this.series, code);
    }
    protected record(series: MethodSeries, code: number): void {
      series.handled.cell(code).value++;
      series.duration.observe((performance.now() - this.startedAt) / 1000);
    }
  }

  /** A host call, labelled when it ends: one made before registration learns then what the operator offers. */
  class HostPromCall extends PromCall {
    constructor(
      private readonly path: string,
      private readonly offered: (method: string) => boolean,
    ) {
      super(otherHost);
    }
    override end(code: number): void {
      this.record(hostSeriesOf(this.path, this.offered(this.path)), code);
    }
  }

  return {
    calls: {
      ...noopSessionObserver,
      // No closure per call: a session's calls are the plugin's hot path.
      callStarted: (path) => new PromCall(seriesOf(path)),
    },
    hostCall: (path, offered) => new HostPromCall(path, offered),
    stateChanged(target, current) {
      // The connection as a whole reports its end with no target; each address reported its own.
      if (target === "") return;
      const label = targets.value(target);
      for (const s of STATES) state.set({ target: label, state: s }, s === current ? 1 : 0);
      if (current === "reconnecting" || current === "rejected") reconnects.inc({ target: label });
    },
  };
}

/**
 * A session observer that forwards to another, set once prom-client has
 * loaded: sessions take it at once, and their calls are counted from then on.
 */
export class SwitchableCallObserver implements SessionObserver {
  target: SessionObserver = noopSessionObserver;
  hostTarget: HostCallObserve | undefined;
  /** The plugin's host calls, counted from the moment prom-client has loaded. */
  readonly hostCall: HostCallObserve = (method, offered) =>
    this.hostTarget ? this.hostTarget(method, offered) : noopCallObserver;
  callStarted(method: string): CallObserver {
    return this.target === noopSessionObserver ? noopCallObserver : this.target.callStarted(method);
  }
  drained(): void {}
  livenessFailed(): void {}
  closed(): void {}
}
