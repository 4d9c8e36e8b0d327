import { importOptionalPeer, type Logger } from "@operator-plugin-framework/wire";
import type { PluginConnection } from "../plugin-connection.js";
import { createPromPluginObserver, type SwitchableCallObserver } from "./prom-plugin-observer.js";
import type { MetricsOption } from "./prom-types.js";

/**
 * Loads prom-client (an optional peer, imported only when metrics are on),
 * registers the plugin's metrics, and feeds them from the connection's state
 * changes and `calls`. A missing prom-client is logged as an error: the
 * plugin keeps serving, without metrics.
 */
export async function loadPluginMetrics(
  option: MetricsOption,
  connection: PluginConnection,
  calls: SwitchableCallObserver,
  logger: Logger,
): Promise<void> {
  try {
    const prom = await importOptionalPeer(
      () => import("prom-client"),
      "prom-client",
      "^15.1.3",
      "the metrics option",
    );
    const registry = option === true ? prom.register : (option.registry ?? prom.register);
    const observer = createPromPluginObserver(prom, registry);
    for (const [target, state] of connection.states) observer.stateChanged(target, state.state);
    connection.onState((state) => observer.stateChanged(state.target, state.state));
    calls.target = observer.calls;
    calls.hostTarget = observer.hostCall;
  } catch (err) {
    logger.error({ error: (err as Error).message }, "plugin metrics are off");
  }
}
