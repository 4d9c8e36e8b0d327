import { createHash } from "node:crypto";
import { status } from "@grpc/grpc-js";
import type { KubeConfig, V1ResourceAttributes } from "@kubernetes/client-node";
import { PLUGIN_STREAM_PATH, PluginFrameworkError } from "@operator-plugin-framework/wire";
import type { PluginIdentity, StreamAuthenticator } from "../types.js";
import { bearerToken } from "./bearer-token.js";
import { createCachedReview } from "./cached-review.js";
import { type AccessAttributes, createKubeReviews, type TokenReviewResult } from "./kube-reviews.js";

/** How the stream is authorized once the token is authenticated. */
export type StreamAuthorization =
  | {
      /** Non-resource path. Default: `/pluginframework.v1.PluginFrameworkService/PluginStream`. */
      path?: string;
      /** Verb. Default: `"create"` (what kube-rbac-proxy derives from a gRPC POST). */
      verb?: string;
    }
  | {
      /** Resource attributes to check instead of a non-resource path, like kube-rbac-proxy's `resourceAttributes`. */
      resourceAttributes: V1ResourceAttributes;
    };

/** Cache lifetimes shared by the review-based authenticators and authorizers. */
export interface ReviewCacheOptions {
  /** How long an allowed SubjectAccessReview is reused. Default: `300_000` (5 min, as kube-rbac-proxy). */
  allowCacheTtlMs?: number;
  /** How long a denied SubjectAccessReview is reused. Default: `30_000` (30 s, as kube-rbac-proxy). */
  denyCacheTtlMs?: number;
  /** Most entries per cache; the least recently used are dropped. Default: `4096`. */
  maxCacheEntries?: number;
  /** The clock the caches use. Default: `Date.now`. */
  now?: () => number;
}

/** Options of {@link tokenReviewAuthenticator}. */
export interface TokenReviewAuthenticatorOptions extends ReviewCacheOptions {
  /** How to reach the API server, with credentials that may create tokenreviews and subjectaccessreviews. Required. */
  kubeConfig: KubeConfig;
  /**
   * Audiences the token must be valid for (`spec.audiences`), e.g. the
   * audience of the plugin's projected token. Default: none, which means the
   * API server's own audiences.
   */
  audiences?: string[];
  /**
   * How long a TokenReview result, authenticated or not, is reused.
   * Default: `120_000` (2 min, as kube-rbac-proxy). A revoked token keeps
   * working on reconnect until its entry expires.
   */
  cacheTtlMs?: number;
  /**
   * The SubjectAccessReview that admits the stream, or `false` for none.
   * Default: `{ path: "/pluginframework.v1.PluginFrameworkService/PluginStream", verb: "create" }`.
   */
  authorize?: StreamAuthorization | false;
}

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/**
 * In-process authentication for a server that terminates TLS itself: the
 * plugin's bearer token is checked with a TokenReview and the stream with a
 * SubjectAccessReview, both through `@kubernetes/client-node`, the way
 * kube-rbac-proxy does it. Results are cached under a hash of the token, never
 * the token itself.
 *
 * Failures: no, malformed, unknown, expired or wrong-audience token →
 * UNAUTHENTICATED; SubjectAccessReview denied → PERMISSION_DENIED; API server
 * unreachable or refusing the operator → UNAVAILABLE (not cached).
 *
 * @example
 * const kc = new KubeConfig();
 * kc.loadFromCluster();
 * createPluginServer({ authenticator: tokenReviewAuthenticator({ kubeConfig: kc, audiences: ["my-operator"] }) });
 */
export function tokenReviewAuthenticator(options: TokenReviewAuthenticatorOptions): StreamAuthenticator {
  const reviews = createKubeReviews(options.kubeConfig);
  const now = options.now ?? Date.now;
  const maxEntries = options.maxCacheEntries ?? 4096;
  const audiences = options.audiences;
  const authenticationTtl = options.cacheTtlMs ?? 120_000;
  const allowTtl = options.allowCacheTtlMs ?? 300_000;
  const denyTtl = options.denyCacheTtlMs ?? 30_000;
  const attributes: AccessAttributes | undefined =
    options.authorize === false
      ? undefined
      : options.authorize !== undefined && "resourceAttributes" in options.authorize
        ? { resourceAttributes: options.authorize.resourceAttributes }
        : {
            nonResourceAttributes: {
              path: options.authorize?.path ?? PLUGIN_STREAM_PATH,
              verb: options.authorize?.verb ?? "create",
            },
          };
  const audienceKey = JSON.stringify([...(audiences ?? [])].sort());
  const authenticate = createCachedReview<TokenReviewResult>({
    maxEntries,
    now,
    ttlMs: () => authenticationTtl,
  });
  const authorize = createCachedReview<{ allowed: boolean; reason: string }>({
    maxEntries,
    now,
    ttlMs: (decision) => (decision.allowed ? allowTtl : denyTtl),
  });

  return {
    mode: "token-review",
    async authenticate(context): Promise<PluginIdentity> {
      const token = bearerToken(context.headers);
      const review = await authenticate(`${sha256(token)}|${audienceKey}`, () =>
        reviews.reviewToken(token, audiences),
      );
      if (!review.authenticated) {
        throw new PluginFrameworkError(
          status.UNAUTHENTICATED,
          `the bearer token was refused: ${review.error}`,
        );
      }
      if (attributes === undefined) return review.identity;
      const { identity, uid } = review;
      const subject = { user: identity.user, groups: identity.groups, uid, extra: identity.extra };
      const decision = await authorize(JSON.stringify([subject, attributes]), () =>
        reviews.reviewAccess(subject, attributes),
      );
      if (!decision.allowed) {
        const what =
          "nonResourceAttributes" in attributes
            ? `${attributes.nonResourceAttributes.verb} on the non-resource URL ${attributes.nonResourceAttributes.path}`
            : `${attributes.resourceAttributes.verb ?? ""} on ${attributes.resourceAttributes.resource ?? ""}`;
        throw new PluginFrameworkError(
          status.PERMISSION_DENIED,
          `user "${identity.user}" may not ${what}; grant it with a ClusterRole and ClusterRoleBinding` +
            (decision.reason ? ` (${decision.reason})` : ""),
        );
      }
      return identity;
    },
  };
}
