import type * as PromClient from "prom-client";

/** The prom-client module, as `import("prom-client")` returns it. */
export type PromClientModule = typeof PromClient;
/** A prom-client registry. */
export type PromRegistry = PromClient.Registry;

/**
 * The metrics option of connectPlugin(): `true` for prom-client's default
 * registry, or the registry to register the metrics in.
 */
export type MetricsOption = true | { registry?: PromRegistry };
