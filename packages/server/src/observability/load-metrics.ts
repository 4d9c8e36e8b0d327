import { importOptionalPeer } from "@operator-plugin-framework/wire";
import { createPromServerObserver } from "./prom-server-observer.js";
import type { MetricsOption } from "./prom-types.js";
import type { ServerObserver } from "./server-observer.js";

/**
 * Loads prom-client (an optional peer, imported here and only here, when
 * metrics are on) and registers the operator's metrics. Fails with
 * FAILED_PRECONDITION and the install command when prom-client is missing.
 */
export async function loadServerMetrics(option: MetricsOption): Promise<ServerObserver> {
  const prom = await importOptionalPeer(
    () => import("prom-client"),
    "prom-client",
    "^15.1.3",
    "the metrics option",
  );
  const registry = option === true ? prom.register : (option.registry ?? prom.register);
  return createPromServerObserver(prom, registry);
}
