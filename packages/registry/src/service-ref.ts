/**
 * A service to look plugins up by: its full name (`"dns.v1.DnsProvider"`),
 * or its definition: a ts-proto `...Service` object or a grpc-js
 * `ServiceDefinition`, whose method paths name the service.
 */
export type ServiceRef = string | Readonly<Record<string, { readonly path: string }>>;

const METHOD_PATH = /^\/([^/]+)\/[^/]+$/;

/** The full service name a reference stands for. Throws a TypeError for a definition that names none. */
export function serviceNameOf(ref: ServiceRef): string {
  if (typeof ref === "string") return ref;
  const names = new Set<string>();
  for (const method of Object.values(ref)) {
    const match = METHOD_PATH.exec(method?.path ?? "");
    if (!match) {
      throw new TypeError(
        `method path ${JSON.stringify(method?.path)} is not "/package.Service/Method"; ` +
          "pass a generated service definition or the service's full name",
      );
    }
    names.add(match[1]!);
  }
  if (names.size !== 1) {
    throw new TypeError(
      names.size === 0
        ? 'a service definition with no methods names no service; pass the service\'s full name, e.g. "dns.v1.DnsProvider"'
        : `the definition's methods belong to several services (${[...names].join(", ")}); pass one service`,
    );
  }
  return [...names][0]!;
}
