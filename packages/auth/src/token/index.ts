export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export {
  DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH,
  type ServiceAccountTokenOptions,
  serviceAccountToken,
} from "./service-account-token.js";
export { staticToken, type TokenSource } from "./token-source.js";
export {
  assertTokenTransportAllowed,
  isLoopbackHost,
  type TokenTransportOptions,
} from "./transport-policy.js";
