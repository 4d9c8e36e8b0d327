import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  type KubeConfig,
  type V1ResourceAttributes,
} from "@kubernetes/client-node";
import { parseServiceAccountUser } from "../service-account-user.js";
import type { PluginIdentity } from "../types.js";
import { kubeApiUnavailable } from "./kube-api-error.js";

/** What a TokenReview said about a token. */
export type TokenReviewResult =
  | { authenticated: true; identity: PluginIdentity; uid: string | undefined }
  | { authenticated: false; error: string };

/** The non-resource or resource attributes a SubjectAccessReview asks about. */
export type AccessAttributes =
  | { nonResourceAttributes: { path: string; verb: string } }
  | { resourceAttributes: V1ResourceAttributes };

/** The subject of a SubjectAccessReview. */
export interface AccessSubject {
  user: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** TokenReview and SubjectAccessReview through `@kubernetes/client-node`. */
export interface KubeReviews {
  reviewToken(token: string, audiences: readonly string[] | undefined): Promise<TokenReviewResult>;
  reviewAccess(
    subject: AccessSubject,
    attributes: AccessAttributes,
  ): Promise<{ allowed: boolean; reason: string }>;
}

export function createKubeReviews(kubeConfig: KubeConfig): KubeReviews {
  const authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
  const authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
  return {
    async reviewToken(token, audiences) {
      let review: Awaited<ReturnType<AuthenticationV1Api["createTokenReview"]>>;
      try {
        review = await authentication.createTokenReview({
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenReview",
            spec: {
              token,
              ...(audiences !== undefined && audiences.length > 0 ? { audiences: [...audiences] } : {}),
            },
          },
        });
      } catch (err) {
        throw kubeApiUnavailable(
          err,
          "TokenReview",
          "check that the API server is reachable and that the operator may create tokenreviews (ClusterRole system:auth-delegator)",
        );
      }
      const result = review.status;
      if (result?.authenticated !== true || !result.user?.username) {
        return { authenticated: false, error: result?.error || "the token was not authenticated" };
      }
      // A reviewer that ignores spec.audiences (an old or custom webhook) must not widen them.
      if (audiences !== undefined && audiences.length > 0) {
        const granted = result.audiences ?? [];
        if (!granted.some((audience) => audiences.includes(audience))) {
          return {
            authenticated: false,
            error: `the token is not valid for the audiences ${JSON.stringify(audiences)}`,
          };
        }
      }
      const user = result.user.username;
      const serviceAccount = parseServiceAccountUser(user);
      const extra = result.user.extra;
      return {
        authenticated: true,
        uid: result.user.uid,
        identity: {
          user,
          groups: result.user.groups ?? [],
          ...(serviceAccount === undefined ? {} : { serviceAccount }),
          ...(extra === undefined || Object.keys(extra).length === 0 ? {} : { extra }),
        },
      };
    },
    async reviewAccess(subject, attributes) {
      try {
        const review = await authorization.createSubjectAccessReview({
          body: {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
              user: subject.user,
              groups: subject.groups,
              ...(subject.uid === undefined ? {} : { uid: subject.uid }),
              ...(subject.extra === undefined ? {} : { extra: subject.extra }),
              ...attributes,
            },
          },
        });
        return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? "" };
      } catch (err) {
        throw kubeApiUnavailable(
          err,
          "SubjectAccessReview",
          "check that the API server is reachable and that the operator may create subjectaccessreviews (ClusterRole system:auth-delegator)",
        );
      }
    },
  };
}
