import type { AccessRules } from "./access-rules.js";
import {
  ApiError,
  checkTypeMeta,
  optionalObject,
  optionalString,
  optionalStringArray,
} from "./api-status.js";

const apiVersion = "authorization.k8s.io/v1";
const kind = "SubjectAccessReview";

function invalid(field: string, message: string): ApiError {
  return new ApiError(
    422,
    `SubjectAccessReview.authorization.k8s.io "" is invalid: ${field}: ${message}`,
    "Invalid",
    {
      kind,
      group: "authorization.k8s.io",
      causes: [{ reason: "FieldValueInvalid", message, field }],
    },
  );
}

/**
 * Answers a SubjectAccessReview create. Validation follows the API server's:
 * a user or a group is required, and exactly one of resourceAttributes and
 * nonResourceAttributes (422 otherwise).
 */
export function reviewAccess(body: Record<string, unknown>, rules: AccessRules): object {
  checkTypeMeta(body, apiVersion, kind);
  const spec = optionalObject(body.spec, "spec") ?? {};
  const user = optionalString(spec.user, "spec.user") ?? "";
  const groups = optionalStringArray(spec.groups, "spec.groups") ?? [];
  const resource = optionalObject(spec.resourceAttributes, "spec.resourceAttributes");
  const nonResource = optionalObject(spec.nonResourceAttributes, "spec.nonResourceAttributes");
  if (user === "" && groups.length === 0) {
    throw invalid("spec.user", "at least one of user or group must be specified");
  }
  if ((resource === undefined) === (nonResource === undefined)) {
    throw invalid(
      "spec.resourceAttributes",
      "exactly one of nonResourceAttributes or resourceAttributes must be specified",
    );
  }
  const decision = rules.decide({
    user,
    groups,
    ...(resource === undefined
      ? {}
      : {
          resourceAttributes: {
            group: optionalString(resource.group, "spec.resourceAttributes.group") ?? "",
            resource: optionalString(resource.resource, "spec.resourceAttributes.resource") ?? "",
            subresource: optionalString(resource.subresource, "spec.resourceAttributes.subresource") ?? "",
            verb: optionalString(resource.verb, "spec.resourceAttributes.verb") ?? "",
            name: optionalString(resource.name, "spec.resourceAttributes.name") ?? "",
            namespace: optionalString(resource.namespace, "spec.resourceAttributes.namespace") ?? "",
          },
        }),
    ...(nonResource === undefined
      ? {}
      : {
          nonResourceAttributes: {
            path: optionalString(nonResource.path, "spec.nonResourceAttributes.path") ?? "",
            verb: optionalString(nonResource.verb, "spec.nonResourceAttributes.verb") ?? "",
          },
        }),
  });
  const metadata = optionalObject(body.metadata, "metadata") ?? {};
  return {
    apiVersion,
    kind,
    metadata: { ...metadata, creationTimestamp: null },
    spec,
    status:
      decision.reason === ""
        ? { allowed: decision.allowed }
        : { allowed: decision.allowed, reason: decision.reason },
  };
}
