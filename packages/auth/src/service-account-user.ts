const prefix = "system:serviceaccount:";

/**
 * Splits a ServiceAccount user name, `system:serviceaccount:NAMESPACE:NAME`,
 * into its parts. Returns `undefined` for any other user (a person, a node,
 * a malformed name), so callers cannot mistake one for a ServiceAccount.
 *
 * @example
 * parseServiceAccountUser("system:serviceaccount:plugins:aws"); // { namespace: "plugins", name: "aws" }
 */
export function parseServiceAccountUser(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(prefix)) return undefined;
  const parts = user.slice(prefix.length).split(":");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return undefined;
  return { namespace: parts[0]!, name: parts[1]! };
}
