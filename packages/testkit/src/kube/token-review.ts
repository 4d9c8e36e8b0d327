import {
  ApiError,
  checkTypeMeta,
  optionalObject,
  optionalString,
  optionalStringArray,
} from "./api-status.js";
import type { TokenRegistry } from "./token-store.js";

const apiVersion = "authentication.k8s.io/v1";
const kind = "TokenReview";

/**
 * Answers a TokenReview create the way the API server's TokenReview REST
 * storage does: `spec.token` is required (400), `spec.audiences` defaults to
 * the API server's audiences, and `status.audiences` is the intersection.
 */
export function reviewToken(
  body: Record<string, unknown>,
  tokens: TokenRegistry,
  apiAudiences: readonly string[],
): object {
  checkTypeMeta(body, apiVersion, kind);
  const spec = optionalObject(body.spec, "spec") ?? {};
  const token = optionalString(spec.token, "spec.token");
  const requested = optionalStringArray(spec.audiences, "spec.audiences");
  if (token === undefined || token.length === 0) {
    throw new ApiError(400, "token is required for TokenReview in authentication");
  }
  const targetAudiences = requested !== undefined && requested.length > 0 ? requested : apiAudiences;
  const check = tokens.check(token, targetAudiences);
  // The spec is echoed back like the real API does, token included: the caller sent it.
  const metadata = optionalObject(body.metadata, "metadata") ?? {};
  const base = { apiVersion, kind, metadata: { ...metadata, creationTimestamp: null }, spec };
  if (!check.ok) {
    return { ...base, status: { user: {}, error: check.error } };
  }
  return {
    ...base,
    status: {
      authenticated: true,
      user: {
        username: check.token.user,
        uid: check.token.uid,
        groups: check.token.groups,
        ...(Object.keys(check.token.extra).length > 0 ? { extra: check.token.extra } : {}),
      },
      audiences: check.audiences,
    },
  };
}
