import { status } from "@grpc/grpc-js";
import type { PluginIdentity } from "@operator-plugin-framework/auth";
import {
  isStatusError,
  type Logger,
  PluginFrameworkError,
  type Refusal,
} from "@operator-plugin-framework/wire";

/** Who is calling a host service: the plugin session the call came through. */
export interface HostCallContext {
  /** The name the plugin registered. */
  pluginName: string;
  /** Who the plugin authenticated as; undefined when the server has no authenticator. */
  identity: PluginIdentity | undefined;
  /** The session's id, as in `registry.get(name).sessions`. */
  sessionId: string;
}

/**
 * Decides whether a plugin may call a host-service method; `method` is the
 * full path, "/pkg.Service/Method". It runs before the handler sees
 * anything; false answers PERMISSION_DENIED. A hook that throws or rejects
 * refuses the call too: with the error's own gRPC code if it has one (a
 * `PluginFrameworkError`), else INTERNAL, and the error is logged.
 */
export type HostCallAuthorizer = (
  request: HostCallContext & { method: string },
) => boolean | Promise<boolean>;

const contexts = new WeakMap<object, HostCallContext>();

/** Attaches the calling session to a call object a host-service handler gets. */
export function attachHostCallContext(callObject: object, context: HostCallContext): void {
  contexts.set(callObject, context);
}

/**
 * The plugin session a host-service call came from, for the call object a
 * handler gets (any of the four kinds). Throws FAILED_PRECONDITION for a
 * call object that is not a host-service call.
 *
 * @example
 * getCredential(call, callback) {
 *   const { pluginName, identity } = hostCallContext(call);
 *   callback(null, { token: tokenFor(pluginName, identity?.user) });
 * }
 */
export function hostCallContext(call: object): HostCallContext {
  const context = contexts.get(call);
  if (!context) {
    throw new PluginFrameworkError(
      status.FAILED_PRECONDITION,
      "hostCallContext() was given a call that is not a host-service call; pass the call object your handler received",
    );
  }
  return context;
}

/**
 * Turns the operator's hook into the handler role's admission check: a
 * refusal for PERMISSION_DENIED, and fail closed when the hook fails.
 */
export function hostCallAdmission(
  authorize: HostCallAuthorizer,
  context: HostCallContext,
  logger: Logger,
): (method: string) => Refusal | undefined | Promise<Refusal | undefined> {
  const user = context.identity?.user ?? "(unauthenticated)";
  const decide = (allowed: boolean, method: string): Refusal | undefined =>
    allowed === true
      ? undefined
      : {
          code: status.PERMISSION_DENIED,
          details: `plugin "${context.pluginName}" (identity ${user}) may not call host service method ${method}`,
        };
  const failed = (err: unknown, method: string): Refusal => {
    // A hook may refuse with a status of its own; anything else is not the plugin's business.
    if (isStatusError(err)) return PluginFrameworkError.from(err);
    logger.error(
      { plugin: context.pluginName, user, method, error: String(err) },
      "authorizeHostCall failed; the call was refused",
    );
    return { code: status.INTERNAL, details: `authorization of ${method} failed on the operator` };
  };
  return (method) => {
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = authorize({ ...context, method });
    } catch (err) {
      return failed(err, method);
    }
    if (!(verdict instanceof Promise)) return decide(verdict, method);
    return verdict.then(
      (allowed) => decide(allowed, method),
      (err: unknown) => failed(err, method),
    );
  };
}
