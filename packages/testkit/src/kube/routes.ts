import type { FakeResourceAttributes } from "./types.js";

/** What a request asks for, resolved from its method and path. */
export type Route =
  | { kind: "tokenreviews"; attributes: FakeResourceAttributes }
  | { kind: "subjectaccessreviews"; attributes: FakeResourceAttributes }
  | { kind: "leases"; attributes: FakeResourceAttributes & { namespace: string }; name: string | undefined }
  | { kind: "not-found" }
  | { kind: "method-not-allowed" };

const tokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews";
const accessReviews = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
const leasePath =
  /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/leases(?:\/([^/]+))?$/;

/** The RBAC verb of an HTTP request, as the API server's request-info resolver derives it. */
function leaseVerb(method: string, name: string | undefined): string | undefined {
  switch (method) {
    case "GET":
      return name === undefined ? "list" : "get";
    case "POST":
      return name === undefined ? "create" : undefined;
    case "PUT":
      return name === undefined ? undefined : "update";
    case "DELETE":
      return name === undefined ? undefined : "delete";
    default:
      return undefined;
  }
}

export function resolveRoute(method: string, pathname: string): Route {
  if (pathname === tokenReviews) {
    if (method !== "POST") return { kind: "method-not-allowed" };
    return {
      kind: "tokenreviews",
      attributes: { group: "authentication.k8s.io", resource: "tokenreviews", verb: "create" },
    };
  }
  if (pathname === accessReviews) {
    if (method !== "POST") return { kind: "method-not-allowed" };
    return {
      kind: "subjectaccessreviews",
      attributes: { group: "authorization.k8s.io", resource: "subjectaccessreviews", verb: "create" },
    };
  }
  const lease = leasePath.exec(pathname);
  if (lease !== null) {
    const namespace = lease[1]!;
    const name = lease[3] === undefined ? undefined : decodeURIComponent(lease[3]);
    const verb = leaseVerb(method, name);
    if (verb === undefined) return { kind: "method-not-allowed" };
    return {
      kind: "leases",
      name,
      attributes: {
        group: "coordination.k8s.io",
        resource: "leases",
        verb,
        namespace,
        ...(name === undefined ? {} : { name }),
      },
    };
  }
  return { kind: "not-found" };
}
