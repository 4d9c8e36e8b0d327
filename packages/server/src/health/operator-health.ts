import type { Server } from "@grpc/grpc-js";
import type { PluginRegistry, RegistryEvent } from "@operator-plugin-framework/registry";
import { importOptionalPeer } from "@operator-plugin-framework/wire";

/** Options of the operator's gRPC health service. */
export interface HealthOptions {
  /**
   * Plugins the operator cannot do its work without. Each gets a health
   * service of its own, `plugin/<name>`, SERVING while the plugin has a
   * session that takes calls. The server's own service `""` never depends on
   * them: a missing plugin is not a reason to restart the operator.
   * Default: none.
   */
  requiredPlugins?: string[];
}

type ServingStatus = "SERVING" | "NOT_SERVING";
interface HealthImplementation {
  setStatus(service: string, status: ServingStatus): void;
  addToServer(server: Server): void;
}
interface HealthModule {
  HealthImplementation: new (initial?: Record<string, ServingStatus>) => HealthImplementation;
}

/** The name of a required plugin's health service. */
export const pluginHealthService = (name: string) => `plugin/${name}`;

/**
 * The gRPC Health Checking Protocol for the operator (grpc-health-check, an
 * optional peer loaded only when health is turned on). `""` is SERVING while
 * the plugin server serves and NOT_SERVING from the moment it drains.
 */
export class OperatorHealth {
  private constructor(
    private readonly implementation: HealthImplementation,
    private readonly unsubscribe: () => void,
  ) {}

  static async create(registry: PluginRegistry, options: HealthOptions = {}): Promise<OperatorHealth> {
    const { HealthImplementation } = await importOptionalPeer(
      () => import("grpc-health-check") as Promise<HealthModule>,
      "grpc-health-check",
      "^2.1.0",
      "the gRPC health service (health option)",
    );
    const required = new Set(options.requiredPlugins ?? []);
    const initial: Record<string, ServingStatus> = { "": "NOT_SERVING" };
    const implementation = new HealthImplementation(initial);
    const check = (name: string) => {
      const up = registry.has(name) && registry.get(name).sessions.some((s) => s.accepting);
      implementation.setStatus(pluginHealthService(name), up ? "SERVING" : "NOT_SERVING");
    };
    for (const name of required) check(name);
    // Only the plugin that changed, looked up by name: listing every plugin on
    // every event made 10,000 registrations cost O(n² log n).
    const update = (event: RegistryEvent) => {
      if (required.has(event.session.name)) check(event.session.name);
    };
    const offs = required.size
      ? [registry.on("registered", update), registry.on("unregistered", update)]
      : [];
    return new OperatorHealth(implementation, () => {
      for (const off of offs) off();
    });
  }

  /** Serves the health service on `server` (the plugin port, or a probe port of its own). */
  addTo(server: Server): void {
    this.implementation.addToServer(server);
  }

  /** SERVING while the plugin server takes plugins; NOT_SERVING once it drains. */
  setServing(serving: boolean): void {
    this.implementation.setStatus("", serving ? "SERVING" : "NOT_SERVING");
  }

  /** Stops following the registry. */
  close(): void {
    this.unsubscribe();
  }
}
