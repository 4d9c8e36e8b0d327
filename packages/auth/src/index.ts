export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export { parseServiceAccountUser } from "./service-account-user.js";
export type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthContext,
  StreamAuthenticator,
} from "./types.js";
