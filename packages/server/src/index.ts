export { PluginFrameworkError } from "@operator-plugin-framework/proto/wire";
export {
  createPluginRegistry,
  type PluginHandle,
  PluginRegistry,
  type PluginSession,
  type RegistryEvent,
} from "@operator-plugin-framework/registry";
export { parseListenAddress } from "./listen-address.js";
export { createPluginServer, type PluginServer, type PluginServerOptions } from "./plugin-server.js";
