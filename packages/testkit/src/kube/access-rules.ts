import type {
  FakeAccessRule,
  FakeNonResourceAttributes,
  FakeResourceAttributes,
  FakeRuleStore,
} from "./types.js";

/** The subject and request of one authorization decision, as a SubjectAccessReview spec holds them. */
export interface AccessRequest {
  user: string;
  groups: readonly string[];
  resourceAttributes?: FakeResourceAttributes;
  nonResourceAttributes?: FakeNonResourceAttributes;
}

export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

/** The fake API's authorizer: allow rules only, like RBAC (there is no deny). */
export interface AccessRules extends FakeRuleStore {
  decide(request: AccessRequest): AccessDecision;
}

function matches(pattern: string | undefined, value: string | undefined): boolean {
  return pattern === undefined || pattern === "*" || pattern === (value ?? "");
}

/** RBAC `nonResourceURLs`: `*` alone matches all, a trailing `*` matches a prefix. */
function pathMatches(pattern: string, path: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("*")) return path.startsWith(pattern.slice(0, -1));
  return pattern === path;
}

function subjectMatches(rule: FakeAccessRule, request: AccessRequest): boolean {
  if (rule.user !== undefined) return rule.user === "*" || rule.user === request.user;
  return rule.group === "*" || request.groups.includes(rule.group!);
}

function requestMatches(rule: FakeAccessRule, request: AccessRequest): boolean {
  if (rule.nonResourceAttributes !== undefined) {
    const wanted = request.nonResourceAttributes;
    return (
      wanted !== undefined &&
      matches(rule.nonResourceAttributes.verb, wanted.verb) &&
      pathMatches(rule.nonResourceAttributes.path, wanted.path)
    );
  }
  const pattern = rule.resourceAttributes;
  const wanted = request.resourceAttributes;
  if (pattern === undefined || wanted === undefined) return false;
  return (
    matches(pattern.verb, wanted.verb) &&
    matches(pattern.group, wanted.group) &&
    matches(pattern.resource, wanted.resource) &&
    // An absent subresource in a rule means "the resource itself", as in RBAC.
    (pattern.subresource === undefined
      ? !wanted.subresource
      : matches(pattern.subresource, wanted.subresource)) &&
    matches(pattern.name, wanted.name) &&
    matches(pattern.namespace, wanted.namespace)
  );
}

function describeSubject(rule: FakeAccessRule): string {
  return rule.user !== undefined ? `User "${rule.user}"` : `Group "${rule.group}"`;
}

/**
 * Creates the rule store. Members of `system:masters` are allowed
 * everything, as on a real cluster, so the API's administrator needs no rules.
 */
export function createAccessRules(): AccessRules {
  const rules: FakeAccessRule[] = [];
  return {
    allow(rule) {
      if ((rule.user === undefined) === (rule.group === undefined)) {
        throw new Error("rules.allow: give exactly one of `user` or `group`");
      }
      if ((rule.resourceAttributes === undefined) === (rule.nonResourceAttributes === undefined)) {
        throw new Error("rules.allow: give exactly one of `resourceAttributes` or `nonResourceAttributes`");
      }
      rules.push(structuredClone(rule));
    },
    clear() {
      rules.length = 0;
    },
    decide(request) {
      if (request.groups.includes("system:masters")) {
        return { allowed: true, reason: "allowed as an administrator of the fake API" };
      }
      const index = rules.findIndex((rule) => subjectMatches(rule, request) && requestMatches(rule, request));
      if (index === -1) return { allowed: false, reason: "" };
      return { allowed: true, reason: `allowed by fake rule #${index} to ${describeSubject(rules[index]!)}` };
    },
  };
}
