import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/**
 * Reads `authorization: Bearer <token>` the way Kubernetes' bearer token
 * authenticator does (scheme case-insensitive, one space, the rest ignored).
 * Missing, repeated or malformed → UNAUTHENTICATED; the message never holds
 * the token.
 */
export function bearerToken(headers: Readonly<Record<string, readonly string[]>>): string {
  const values = headers.authorization ?? [];
  if (values.length === 0) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      "no bearer token: the plugin must send `authorization: Bearer <ServiceAccount token>`",
    );
  }
  if (values.length > 1) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      `${values.length} authorization headers: send exactly one \`authorization: Bearer <token>\``,
    );
  }
  const [scheme, token] = values[0]!.trim().split(" ");
  if (scheme?.toLowerCase() !== "bearer" || token === undefined || token.length === 0) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      "malformed authorization header: expected `Bearer <token>`",
    );
  }
  return token;
}
