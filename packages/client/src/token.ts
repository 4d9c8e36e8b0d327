import { status } from "@grpc/grpc-js";
import { serviceAccountToken, staticToken, type TokenSource } from "@operator-plugin-framework/auth/token";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * Anything that can produce a bearer token; asked on every connection
 * attempt. The auth package's `serviceAccountToken()` and `staticToken()` are
 * ones; `describe` is optional here.
 */
export type TokenProvider = Pick<TokenSource, "getToken"> & Partial<Pick<TokenSource, "describe">>;

/** Normalizes the `token` / `tokenFile` options into one provider, or none. */
export function tokenProvider(
  token: string | TokenProvider | undefined,
  tokenFile: string | undefined,
): TokenProvider | undefined {
  if (token !== undefined && tokenFile !== undefined) {
    throw new PluginFrameworkError(status.INVALID_ARGUMENT, "give either token or tokenFile, not both");
  }
  if (typeof token === "string") return staticToken(token);
  if (token) return token;
  // Re-read on every attempt: projected ServiceAccount tokens are rotated in place.
  return tokenFile === undefined ? undefined : serviceAccountToken({ path: tokenFile });
}
