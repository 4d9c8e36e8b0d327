import { readFile } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/proto/wire";

/** Anything that can produce a bearer token; called on every connection attempt. */
export interface TokenProvider {
  getToken(): Promise<string>;
}

/** Normalizes the `token` / `tokenFile` options into one provider, or none. */
export function tokenProvider(
  token: string | TokenProvider | undefined,
  tokenFile: string | undefined,
): TokenProvider | undefined {
  if (token !== undefined && tokenFile !== undefined) {
    throw new PluginFrameworkError(status.INVALID_ARGUMENT, "give either token or tokenFile, not both");
  }
  if (typeof token === "string") return { getToken: async () => token };
  if (token) return token;
  if (tokenFile === undefined) return undefined;
  return {
    // Re-read on every attempt: projected ServiceAccount tokens are rotated in place.
    async getToken() {
      const text = await readFile(tokenFile, "utf8").catch((err: NodeJS.ErrnoException) => {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          `cannot read the token file ${tokenFile} (${err.code ?? err.message}); mount the ServiceAccount token there or set tokenFile`,
        );
      });
      const value = text.trim();
      if (!value)
        throw new PluginFrameworkError(status.UNAUTHENTICATED, `the token file ${tokenFile} is empty`);
      return value;
    },
  };
}
