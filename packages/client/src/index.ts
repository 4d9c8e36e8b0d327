// biome-ignore-all assist/source/organizeImports: grouped by what users look for, not by path
// The plugin side of the framework. Everything here is for plugin authors;
// the runtime underneath (sessions, scheduler, codec) stays internal. Other
// libraries (the testkit) build on the same names: there is no separate API
// for them.

// Connecting a plugin to its operator(s); closing it on SIGTERM; probes.
export { type ConnectPluginOptions, connectPlugin } from "./connect-plugin.js";
export type { ConnectionState, PluginConnection, RegisteredOptions } from "./plugin-connection.js";
// Pairing a service definition with its implementation, checked at compile time.
export { type MethodImplementation, type ServiceImplementation, service } from "./typed-service.js";
export { type CloseOnSignalsOptions, closeOnSignals } from "./signals.js";
export {
  type HealthEndpoints,
  type HealthEndpointsOptions,
  serveHealthEndpoints,
} from "./health-endpoints.js";

// Calling the operator's host services through the connection (protocol revision 2).
export type {
  ClientConstructor,
  HostClientOptions,
  HostServiceCaller,
} from "./host-client.js";
export type {
  CallOptions,
  FacadeMethod,
  MethodShape,
  RequestStream,
  ServiceFacade,
} from "@operator-plugin-framework/wire";

// Types of the options above.
export type { ServiceEntry } from "./service-entry.js";
export type { CheckedServices } from "./typed-service.js";
export type { TokenProvider } from "./token.js";
export type { MetricsOption, PromRegistry } from "./observability/prom-types.js";
export type { TracingOption } from "./observability/tracing.js";

// Errors and logging, the same in every user-facing package of the framework.
export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";

/** The largest `fileDescriptorSet` connectPlugin announces: 1 MiB. */
export { MAX_FILE_DESCRIPTOR_SET_BYTES } from "@operator-plugin-framework/wire";
