export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export {
  type ConnectionState,
  type ConnectPluginOptions,
  connectPlugin,
  type PluginConnection,
} from "./connect-plugin.js";
export {
  type HealthEndpoints,
  type HealthEndpointsOptions,
  serveHealthEndpoints,
} from "./health-endpoints.js";
export type { ServiceEntry } from "./service-table.js";
export { type CloseOnSignalsOptions, closeOnSignals } from "./signals.js";
export type { TokenProvider } from "./token.js";
