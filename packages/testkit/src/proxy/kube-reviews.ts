import { Agent, request } from "node:https";
import type { ProxyAuthorizationAttributes, ProxyIdentity, ProxyKubeConnection } from "./types.js";

/** TokenReview and SubjectAccessReview over HTTPS, with the JSON shapes of the real API. */
export interface KubeReviews {
  authenticate(token: string): Promise<ProxyIdentity | undefined>;
  authorize(attributes: ProxyAuthorizationAttributes): Promise<boolean>;
  /** Releases the keep-alive sockets. */
  close(): void;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; groups?: string[] };
  audiences?: string[];
}

interface SubjectAccessReviewStatus {
  allowed?: boolean;
}

/**
 * Builds the reviewer the real proxy gets from its delegating authenticator
 * and authorizer. Caching, which the real proxy does, is a separate opt-in
 * (see review-cache.ts).
 */
export function createKubeReviews(kube: ProxyKubeConnection, audiences: readonly string[]): KubeReviews {
  const base = new URL(kube.url);
  const agent = new Agent({ ca: kube.caPem, keepAlive: true });

  async function post<T>(path: string, body: object): Promise<T> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        new URL(path, base),
        {
          method: "POST",
          agent,
          headers: {
            authorization: `Bearer ${kube.token}`,
            "content-type": "application/json",
            accept: "application/json",
            "content-length": payload.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              reject(new Error(`POST ${path} answered HTTP ${status}`));
              return;
            }
            try {
              resolve(((JSON.parse(text) as { status?: T }).status ?? {}) as T);
            } catch {
              reject(new Error(`POST ${path} answered a body that is not JSON`));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  return {
    async authenticate(token) {
      const status = await post<TokenReviewStatus>("/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
      });
      if (!status.authenticated || !status.user?.username) return undefined;
      // As Kubernetes' webhook token authenticator: with audiences requested,
      // the review must name at least one of them.
      if (audiences.length > 0 && !status.audiences?.some((a) => audiences.includes(a))) return undefined;
      return { user: status.user.username, groups: status.user.groups ?? [] };
    },
    async authorize(attributes) {
      const { user, groups, verb, path, resourceAttributes } = attributes;
      const status = await post<SubjectAccessReviewStatus>(
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user,
            groups,
            ...(resourceAttributes
              ? { resourceAttributes: { ...resourceAttributes, verb } }
              : { nonResourceAttributes: { path, verb } }),
          },
        },
      );
      return status.allowed === true;
    },
    close() {
      agent.destroy();
    },
  };
}
