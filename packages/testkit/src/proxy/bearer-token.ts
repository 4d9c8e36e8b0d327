/**
 * Reads the bearer token the way Kubernetes' request authenticator does:
 * `Authorization: Bearer <token>`, scheme case-insensitive, surrounding space
 * trimmed, anything after a second space ignored. A missing, empty or
 * non-bearer header yields `undefined` (the proxy answers 401).
 */
export function readBearerToken(header: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  const [scheme, token] = value.split(" ");
  if (scheme?.toLowerCase() !== "bearer" || !token) return undefined;
  return token;
}
