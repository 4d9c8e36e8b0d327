import type { KubeConfig } from "@kubernetes/client-node";
import type { FakeFaults, FakeResourceStore } from "./resource-types.js";

/**
 * The public shapes of the fake Kubernetes API. Field names follow the
 * Kubernetes review APIs, so a test reads like the RBAC it stands for.
 */

/** What a bearer token authenticates as, configured at run time. */
export interface FakeTokenIdentity {
  /** The user name, e.g. "system:serviceaccount:plugins:aws". Required. */
  user: string;
  /** Groups. Default: `["system:authenticated"]`. */
  groups?: string[];
  /** The uid reported by a TokenReview. Default: a random UUID, fixed per token. */
  uid?: string;
  /** Extra attributes reported by a TokenReview. Default: none. */
  extra?: Record<string, string[]>;
  /**
   * Audiences the token was issued for (a projected token's `audience`).
   * Default: none, which means bound to the API server's own audiences
   * (`apiAudiences`), like a legacy ServiceAccount token.
   */
  audiences?: string[];
  /**
   * When the token expires. From then on a TokenReview answers
   * `authenticated: false` with an error, and the API refuses it with 401.
   * Default: never.
   */
  expiresAt?: Date;
}

/** Resource attributes of a SubjectAccessReview, or of a rule matching them. */
export interface FakeResourceAttributes {
  /** The API group, `""` for the core group. In a rule: `"*"` or absent matches every group. */
  group?: string;
  /** The resource, e.g. "plugins". In a rule: `"*"` matches every resource. */
  resource?: string;
  /** The subresource. In a rule: absent matches only requests without one, `"*"` any. */
  subresource?: string;
  /** The verb, e.g. "register". In a rule: `"*"` matches every verb. */
  verb?: string;
  /** The object name. In a rule: `"*"` or absent matches every name (RBAC `resourceNames` empty). */
  name?: string;
  /** The namespace. In a rule: `"*"` or absent matches every namespace and cluster scope. */
  namespace?: string;
}

/** Non-resource attributes of a SubjectAccessReview, or of a rule matching them. */
export interface FakeNonResourceAttributes {
  /** The path. In a rule: `"*"` matches all, a trailing `*` matches a prefix (RBAC `nonResourceURLs`). */
  path: string;
  /** The verb, e.g. "create". In a rule: `"*"` matches every verb. */
  verb: string;
}

/**
 * One allow rule. It applies to a subject named by `user` or `group` (`"*"`
 * for anyone) and to either resource or non-resource requests.
 */
export type FakeAccessRule = ({ user: string; group?: never } | { group: string; user?: never }) &
  (
    | { resourceAttributes: FakeResourceAttributes; nonResourceAttributes?: never }
    | { nonResourceAttributes: FakeNonResourceAttributes; resourceAttributes?: never }
  );

/** Requests received per kind, for asserting caching. */
export interface FakeKubeApiRequestCounts {
  tokenreviews: number;
  subjectaccessreviews: number;
  leases: number;
}

/** Options of `startFakeKubeApi`. */
export interface FakeKubeApiOptions {
  /**
   * The bearer token of the API's administrator, used by `kubeConfig()`. It
   * is allowed everything, like a `system:masters` member. Default: random.
   */
  adminToken?: string;
  /** The administrator's user name. Default: `"kubernetes-admin"`. */
  adminUser?: string;
  /**
   * The API server's own audiences (`--api-audiences`). A TokenReview
   * without `spec.audiences` is checked against these. Default:
   * `["https://kubernetes.default.svc"]`.
   */
  apiAudiences?: string[];
  /** Largest request body accepted; larger ones get 413. Default: 1 MiB. */
  maxBodyBytes?: number;
  /** Injectable clock for token expiry and lease timestamps. Default: `Date.now`. */
  now?: () => number;
  /**
   * How many custom resource changes the watch history keeps. A watch from a
   * resourceVersion older than that is answered 410 Gone. Default: 1000.
   */
  watchHistorySize?: number;
}

/** The tokens the fake API knows, changeable at run time. */
export interface FakeTokenStore {
  /** Adds or replaces a token. */
  set(token: string, identity: FakeTokenIdentity): void;
  /** Forgets a token: from now on it is unknown, as a deleted ServiceAccount's. */
  revoke(token: string): void;
}

/** The authorization rules, changeable at run time. */
export interface FakeRuleStore {
  /** Adds an allow rule. */
  allow(rule: FakeAccessRule): void;
  /** Removes every rule (the administrator stays allowed everything). */
  clear(): void;
}

/** A running fake Kubernetes API. */
export interface FakeKubeApi extends AsyncDisposable {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** The CA that signed the server certificate (PEM). */
  caPem: string;
  /** The administrator's bearer token. Never logged. */
  adminToken: string;
  tokens: FakeTokenStore;
  rules: FakeRuleStore;
  /** Custom resource types served, registered by the test like CRDs. */
  resources: FakeResourceStore;
  /** Fault injection per request kind and caller, and dropping watches. */
  faults: FakeFaults;
  /** Live request counters per kind, with `reset()`. */
  requests: Readonly<FakeKubeApiRequestCounts> & { reset(): void };
  /**
   * Fault injection: answer every request with this HTTP status and a
   * Status body (e.g. 503), or `undefined` to serve normally again.
   */
  setFailure(httpStatus: number | undefined): void;
  /** Open client connections, to check that callers release theirs. */
  connections(): number;
  /**
   * A `@kubernetes/client-node` KubeConfig for this API, loaded from a
   * generated kubeconfig. Default token: the administrator's.
   */
  kubeConfig(options?: { token?: string }): KubeConfig;
  /** The generated kubeconfig as a string (YAML-compatible JSON). */
  kubeconfigText(options?: { token?: string }): string;
  /** Writes the generated kubeconfig to `path` (mode 0600). */
  writeKubeconfig(path: string, options?: { token?: string }): Promise<void>;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}
