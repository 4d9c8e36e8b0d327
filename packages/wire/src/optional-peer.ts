import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "./errors.js";

/**
 * Loads an optional peer dependency (prom-client, @opentelemetry/api,
 * grpc-health-check) the first time a feature that needs it is used, so users
 * who never turn the feature on never install it. A missing package fails with
 * the install command instead of a bare "Cannot find package".
 *
 * `load` is the `() => import(name)` of the package that declares the peer:
 * under pnpm's strict layout only that package can resolve it.
 */
export async function importOptionalPeer<T>(
  load: () => Promise<T>,
  name: string,
  range: string,
  feature: string,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new PluginFrameworkError(
        status.FAILED_PRECONDITION,
        `${feature} needs the optional peer dependency ${name}, which is not installed; install it with: npm install ${name}@"${range}"`,
        { cause: err },
      );
    }
    throw err;
  }
}
