import type { ResourceEntry } from "./object-store.js";
import type { FakeResourceAttributes } from "./types.js";

/** A request for a registered custom resource. `namespace` is absent for a list or watch across namespaces. */
export interface CustomRoute {
  kind: "custom";
  entry: ResourceEntry;
  namespace: string | undefined;
  name: string | undefined;
  status: boolean;
  verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";
  attributes: FakeResourceAttributes;
}

function verbOf(
  method: string,
  url: URL,
  name: string | undefined,
  status: boolean,
): CustomRoute["verb"] | undefined {
  const watch = url.searchParams.get("watch");
  switch (method) {
    case "GET":
      if (name !== undefined) return "get";
      return watch === "true" || watch === "1" ? "watch" : "list";
    case "POST":
      return name === undefined ? "create" : undefined;
    case "PUT":
      return name === undefined ? undefined : "update";
    case "PATCH":
      return name === undefined ? undefined : "patch";
    case "DELETE":
      return name === undefined || status ? undefined : "delete";
    default:
      return undefined;
  }
}

/**
 * Resolves `/apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>[/status]]`
 * and `/apis/<group>/<version>/<plural>` for registered types. Returns
 * undefined for any other path, `method-not-allowed` for a verb the path has not.
 */
export function resolveCustomRoute(
  method: string,
  url: URL,
  lookup: (group: string, version: string, plural: string) => ResourceEntry | undefined,
): CustomRoute | { kind: "method-not-allowed" } | undefined {
  const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
  if (segments[0] !== "apis" || segments.length < 4) return undefined;
  const [, group, version, ...rest] = segments as [string, string, string, ...string[]];
  let namespace: string | undefined;
  let plural: string;
  let name: string | undefined;
  let status = false;
  if (rest[0] === "namespaces" && rest.length >= 3 && rest.length <= 5) {
    namespace = rest[1];
    plural = rest[2]!;
    name = rest[3];
    if (rest.length === 5) {
      if (rest[4] !== "status") return undefined;
      status = true;
    }
  } else if (rest.length === 1) {
    plural = rest[0]!;
  } else {
    return undefined;
  }
  const entry = lookup(group, version, plural);
  if (entry === undefined || namespace === "" || name === "") return undefined;
  if (status && !entry.statusSubresource) return undefined;
  const verb = verbOf(method, url, name, status);
  if (verb === undefined || (namespace === undefined && verb !== "list" && verb !== "watch")) {
    return { kind: "method-not-allowed" };
  }
  return {
    kind: "custom",
    entry,
    namespace,
    name,
    status,
    verb,
    attributes: {
      group,
      resource: plural,
      verb,
      ...(status ? { subresource: "status" } : {}),
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
    },
  };
}
