import { readFile } from "node:fs/promises";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import type { TokenSource } from "./token-source.js";

/** Where the kubelet mounts a Pod's ServiceAccount token. */
export const DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** Options of {@link serviceAccountToken}. */
export interface ServiceAccountTokenOptions {
  /**
   * The token file, e.g. a projected volume with an `audience`.
   * Default: `/var/run/secrets/kubernetes.io/serviceaccount/token`.
   */
  path?: string;
}

/**
 * A ServiceAccount token read from its file on every `getToken()`. The
 * kubelet replaces projected tokens before they expire, so reading each time
 * (instead of once) is what makes rotation work on reconnect.
 *
 * @example
 * connectPlugin({ token: serviceAccountToken({ path: "/var/run/secrets/tokens/operator" }), ... });
 */
export function serviceAccountToken(options: ServiceAccountTokenOptions = {}): TokenSource {
  const path = options.path ?? DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH;
  return {
    async getToken() {
      let content: string;
      try {
        content = await readFile(path, "utf8");
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const reason = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? "unknown error"})`;
        throw new PluginFrameworkError(
          status.FAILED_PRECONDITION,
          `ServiceAccount token file ${path} ${reason}; mount a ServiceAccount token there ` +
            "(automountServiceAccountToken or a projected serviceAccountToken volume) or pass another path",
          { cause: err },
        );
      }
      const token = content.trim();
      if (token.length === 0) {
        throw new PluginFrameworkError(
          status.FAILED_PRECONDITION,
          `ServiceAccount token file ${path} is empty; check the projected volume or pass another path`,
        );
      }
      return token;
    },
    describe: () => `ServiceAccount token file ${path}`,
  };
}
