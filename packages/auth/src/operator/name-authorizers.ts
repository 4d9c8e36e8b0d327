import type { KubeConfig } from "@kubernetes/client-node";
import type { PluginIdentity, PluginNameAuthorizer } from "../types.js";
import { createCachedReview } from "./cached-review.js";
import { createKubeReviews } from "./kube-reviews.js";
import type { ReviewCacheOptions } from "./token-review-authenticator.js";

/** The API group of the virtual `plugins` resource RBAC rules name. */
export const PLUGIN_API_GROUP = "pluginframework.io";

/** Options of {@link subjectAccessReviewNameAuthorizer}. */
export interface SubjectAccessReviewNameAuthorizerOptions extends ReviewCacheOptions {
  /** How to reach the API server, with credentials that may create subjectaccessreviews. Required. */
  kubeConfig: KubeConfig;
  /** The verb checked. Default: `"register"`. */
  verb?: string;
  /**
   * The API group checked. Default: `"pluginframework.io"`. No such API
   * needs to exist: RBAC authorizes any group name a rule mentions.
   */
  group?: string;
  /** The resource checked. Default: `"plugins"`. */
  resource?: string;
  /**
   * The namespace checked, so a Role and RoleBinding there can grant names.
   * Default: none (cluster scope: only a ClusterRole with a ClusterRoleBinding grants).
   */
  namespace?: string;
}

/**
 * Allows an identity to register a plugin name only if a SubjectAccessReview
 * says it may `register` the `plugins` resource of that name. Grant it with
 * an ordinary rule:
 *
 * ```yaml
 * rules:
 *   - apiGroups: ["pluginframework.io"]
 *     resources: ["plugins"]
 *     resourceNames: ["aws"]
 *     verbs: ["register"]
 * ```
 *
 * Decisions are cached (allowed 5 min, denied 30 s). An unreachable API
 * server rejects with UNAVAILABLE.
 */
export function subjectAccessReviewNameAuthorizer(
  options: SubjectAccessReviewNameAuthorizerOptions,
): PluginNameAuthorizer {
  const reviews = createKubeReviews(options.kubeConfig);
  const allowTtl = options.allowCacheTtlMs ?? 300_000;
  const denyTtl = options.denyCacheTtlMs ?? 30_000;
  const cached = createCachedReview<{ allowed: boolean; reason: string }>({
    maxEntries: options.maxCacheEntries ?? 4096,
    now: options.now ?? Date.now,
    ttlMs: (decision) => (decision.allowed ? allowTtl : denyTtl),
  });
  const verb = options.verb ?? "register";
  const group = options.group ?? PLUGIN_API_GROUP;
  const resource = options.resource ?? "plugins";
  return async (identity, pluginName) => {
    const resourceAttributes = {
      group,
      resource,
      verb,
      name: pluginName,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    };
    const subject = { user: identity.user, groups: identity.groups, extra: identity.extra };
    const decision = await cached(JSON.stringify([subject, resourceAttributes]), () =>
      reviews.reviewAccess(subject, { resourceAttributes }),
    );
    if (decision.allowed) return { allowed: true };
    const scope = options.namespace === undefined ? "" : ` in namespace "${options.namespace}"`;
    return {
      allowed: false,
      reason:
        `user "${identity.user}" may not ${verb} ${resource}.${group} "${pluginName}"${scope}; ` +
        `grant it with a Role or ClusterRole rule (apiGroups: [${group}], resources: [${resource}], ` +
        `resourceNames: [${pluginName}], verbs: [${verb}])`,
    };
  };
}

/** Allows every identity every name, for development and single-tenant setups. */
export function allowAllNames(): PluginNameAuthorizer {
  return async () => ({ allowed: true });
}

/** A custom policy's answer: a boolean, or a decision with a reason. */
export type NamePolicyResult = boolean | { allowed: boolean; reason?: string };

/**
 * Adapts a custom policy, sync or async, returning a boolean or a decision.
 * A plain `PluginNameAuthorizer` function works too; this is for brevity.
 *
 * @example
 * // Each ServiceAccount may register only the plugin named after it.
 * nameAuthorizer((identity, name) => identity.serviceAccount?.name === name);
 */
export function nameAuthorizer(
  policy: (identity: PluginIdentity, pluginName: string) => NamePolicyResult | Promise<NamePolicyResult>,
): PluginNameAuthorizer {
  return async (identity, pluginName) => {
    const result = await policy(identity, pluginName);
    if (typeof result === "boolean") {
      return result
        ? { allowed: true }
        : { allowed: false, reason: `the policy refused plugin name "${pluginName}"` };
    }
    return result;
  };
}
