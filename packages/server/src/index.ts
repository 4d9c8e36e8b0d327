export {
  createPluginRegistry,
  type PluginHandle,
  type PluginRegistry,
  type PluginSession,
  type RegistryEvent,
} from "@operator-plugin-framework/registry";
export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export { type AdminServer, type AdminServerOptions, createAdminServer } from "./admin/admin-server.js";
export { parseListenAddress } from "./listen-address.js";
export { createPluginServer, type PluginServer, type PluginServerOptions } from "./plugin-server.js";
