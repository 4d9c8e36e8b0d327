// biome-ignore-all assist/source/organizeImports: grouped by audience, as CONTRIBUTING asks, not alphabetically.

// For operator authors: start a server, reach plugins through its registry,
// handle the one error class.
export { createPluginServer, type PluginServer } from "./plugin-server.js";
export type { PluginServerOptions } from "./plugin-server-options.js";
export { type HostCallAuthorizer, type HostCallContext, hostCallContext } from "./host-call-context.js";
export type { HostServiceEntry } from "./host-services.js";
export type { MetricsOption, PromRegistry } from "./observability/prom-types.js";
export type { TracingOption } from "./observability/tracing-types.js";
export { type AdminServer, type AdminServerOptions, createAdminServer } from "./admin/admin-server.js";
export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
// Registry types an operator author names in their own code (CONTRIBUTING,
// "Entry points and re-exports"): types and the factory, never a class to construct.
export {
  type CallOptions,
  createPluginRegistry,
  type PluginHandle,
  type PluginRegistry,
  type PluginRegistryOptions,
  type PluginSession,
  type RegistryEvent,
} from "@operator-plugin-framework/registry";

// For other libraries (authenticators, name authorizers): the contracts an
// option of createPluginServer() accepts.
export type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthenticator,
} from "@operator-plugin-framework/auth";
