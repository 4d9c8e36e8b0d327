import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * Reads `authorization: Bearer <token>` the way Kubernetes' bearer token
 * authenticator does (scheme case-insensitive, one space, the rest ignored).
 * Missing or malformed → UNAUTHENTICATED; the message never holds the token.
 */
export function bearerToken(headers: Record<string, string | string[] | undefined>): string {
  const raw = headers.authorization;
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      "no bearer token: the plugin must send `authorization: Bearer <ServiceAccount token>`",
    );
  }
  if (Array.isArray(raw) && raw.length > 1) {
    throw new PluginFrameworkError(status.UNAUTHENTICATED, "more than one authorization header");
  }
  const value = (Array.isArray(raw) ? raw[0]! : raw).trim();
  const [scheme, token] = value.split(" ");
  if (scheme?.toLowerCase() !== "bearer" || token === undefined || token.length === 0) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      "malformed authorization header: expected `Bearer <token>`",
    );
  }
  return token;
}
