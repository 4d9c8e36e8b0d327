import { type ServiceDefinition, status, type UntypedServiceImplementation } from "@grpc/grpc-js";
import type { ServiceDescriptor } from "@operator-plugin-framework/proto";
import { buildServiceTable, type MethodHandler, PluginFrameworkError } from "@operator-plugin-framework/wire";

/** A service and its implementation: exactly what `grpc.Server.addService` takes. */
export type HostServiceEntry = readonly [ServiceDefinition, UntypedServiceImplementation | object];

/** How many service names an UNIMPLEMENTED message lists before it says "…". */
const NAMES_IN_MESSAGE = 20;

/**
 * The services the operator offers to plugins, shared by every session of
 * one server. Sessions read the handler map at each call, so a service added
 * later is served at once; the list in `register_ack` is what existed when
 * the plugin registered.
 */
export class HostServices {
  readonly handlers = new Map<string, MethodHandler>();
  readonly descriptors: ServiceDescriptor[] = [];

  constructor(entries: readonly HostServiceEntry[] = []) {
    for (const [definition, implementation] of entries) this.add(definition, implementation);
  }

  /** Adds one service; throws INVALID_ARGUMENT if one of its methods is offered already. */
  add(definition: ServiceDefinition, implementation: UntypedServiceImplementation | object): void {
    const { handlers, descriptors } = buildServiceTable([[definition, implementation]], {
      owner: "the operator's host services",
      // As grpc.Server.addService: a method left out answers UNIMPLEMENTED.
      allowPartialImplementation: true,
    });
    for (const path of handlers.keys()) {
      if (this.handlers.has(path)) {
        throw new PluginFrameworkError(
          status.INVALID_ARGUMENT,
          `host service method ${path} is offered twice; add each service once`,
        );
      }
    }
    for (const [path, handler] of handlers) this.handlers.set(path, handler);
    this.descriptors.push(...descriptors);
  }

  /** The UNIMPLEMENTED message for a method no host service has. */
  unimplemented(method: string): string {
    const names = this.descriptors.map((service) => service.name);
    const listed =
      names.length === 0
        ? "none"
        : names.slice(0, NAMES_IN_MESSAGE).join(", ") + (names.length > NAMES_IN_MESSAGE ? ", …" : "");
    return `the operator offers no host service with method ${method} (offered: ${listed})`;
  }
}
