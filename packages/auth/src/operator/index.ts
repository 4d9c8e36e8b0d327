export {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  quietLogger,
} from "@operator-plugin-framework/wire";
export { parseServiceAccountUser } from "../service-account-user.js";
export type {
  PluginIdentity,
  PluginNameAuthorizer,
  StreamAuthContext,
  StreamAuthenticator,
} from "../types.js";
export {
  allowAllNames,
  type NamePolicyResult,
  nameAuthorizer,
  PLUGIN_API_GROUP,
  type SubjectAccessReviewNameAuthorizerOptions,
  subjectAccessReviewNameAuthorizer,
} from "./name-authorizers.js";
export { type NoAuthenticatorOptions, noAuthenticator } from "./no-authenticator.js";
export {
  type ProxyHeaderAuthenticatorOptions,
  proxyHeaderAuthenticator,
} from "./proxy-header-authenticator.js";
export {
  type ReviewCacheOptions,
  type StreamAuthorization,
  type TokenReviewAuthenticatorOptions,
  tokenReviewAuthenticator,
} from "./token-review-authenticator.js";
