export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export { leastInFlight, roundRobin, type SessionPicker } from "./balancer.js";
export type { CallOptions, FacadeMethod, MethodShape, RequestStream, ServiceFacade } from "./facade.js";
export { FailedCall } from "./failed-call.js";
export {
  type ClientConstructor,
  type PluginClientOptions,
  PluginHandle,
} from "./plugin-handle.js";
export {
  createPluginRegistry,
  PluginRegistry,
  type PluginRegistryOptions,
  type RegistryEvent,
} from "./registry.js";
export type { AnnouncedService, PluginSession, SessionIdentity } from "./session.js";
