import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";

/** Longest user or group name accepted from identity headers, in characters. */
export const MAX_IDENTITY_STRING_LENGTH = 1024;
/** Most groups accepted from identity headers. */
export const MAX_GROUPS = 256;

// Control, format, surrogate, private-use and unassigned code points: nothing a
// real user or group name holds, and what would mislead a log reader or an RBAC rule.
const unprintable = /\p{C}/u;

/**
 * Checks a user or group name taken from a header: non-empty, printable,
 * at most {@link MAX_IDENTITY_STRING_LENGTH} characters. Throws
 * UNAUTHENTICATED naming the header, never echoing the value.
 */
export function checkIdentityString(value: string, header: string, what: string): string {
  if (value === "") {
    throw new PluginFrameworkError(status.UNAUTHENTICATED, `empty ${what} in the ${header} header`);
  }
  if (value.length > MAX_IDENTITY_STRING_LENGTH) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      `${what} in the ${header} header is longer than ${MAX_IDENTITY_STRING_LENGTH} characters`,
    );
  }
  if (unprintable.test(value)) {
    throw new PluginFrameworkError(
      status.UNAUTHENTICATED,
      `${what} in the ${header} header holds a control or unprintable character`,
    );
  }
  return value;
}
