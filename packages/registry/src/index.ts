// For operator authors: find plugins, wait for them, and call them.

export type {
  CallOptions,
  FacadeMethod,
  MethodShape,
  RequestStream,
  ServiceFacade,
} from "@operator-plugin-framework/wire";
export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export { leastInFlight, roundRobin, type SessionPicker } from "./balancer.js";
export type { ClientConstructor, PluginClientOptions, PluginHandle } from "./plugin-handle.js";
export {
  createPluginRegistry,
  type PluginRegistry,
  type PluginRegistryOptions,
  type RegistryEvent,
  type WaitForOptions,
} from "./registry.js";
export type { PluginSelector } from "./selector.js";
export type { ServiceRef } from "./service-ref.js";
export type { AnnouncedService, PluginIdentity, PluginSession, SessionIdentity } from "./session.js";

// For other libraries (@operator-plugin-framework/server): adding sessions is
// not here but in the "./internal" entry, so that operator code cannot reach it.
