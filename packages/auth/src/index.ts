export type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthContext,
  StreamAuthenticator,
} from "./types.js";
