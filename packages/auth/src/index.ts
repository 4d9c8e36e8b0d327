export { parseServiceAccountUser } from "./service-account-user.js";
export type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthContext,
  StreamAuthenticator,
} from "./types.js";
