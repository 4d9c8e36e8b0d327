/**
 * The public shapes of the fake kube-rbac-proxy. Field names follow the
 * Kubernetes review APIs so that a test can read them against RBAC rules.
 */

/** Who the bearer token belongs to, as a TokenReview reports it. */
export interface ProxyIdentity {
  user: string;
  groups: string[];
}

/**
 * Resource attributes of a SubjectAccessReview, as configured with the real
 * proxy's `authorization.resourceAttributes` config. `verb` is never set here:
 * it always comes from the HTTP method.
 */
export interface ProxyResourceAttributes {
  namespace?: string;
  /** The API group (`apiGroup` in the real proxy's config file). */
  group?: string;
  /** The API version (`apiVersion` in the real proxy's config file). */
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/**
 * What the proxy asks the authorizer about one request. Without configured
 * resource attributes it is a non-resource request: `{ path, verb }`.
 */
export interface ProxyAuthorizationAttributes extends ProxyIdentity {
  /** From the HTTP method: POST→create, GET→get, PUT→update, PATCH→patch, DELETE→delete, else `*`. */
  verb: string;
  /** The request path, set for non-resource requests only. */
  path?: string;
  /** Set instead of `path` when the proxy is configured with resource attributes. */
  resourceAttributes?: ProxyResourceAttributes;
}

/** Where the real TokenReview and SubjectAccessReview requests go. */
export interface ProxyKubeConnection {
  /** The API server, e.g. `https://127.0.0.1:6443`. */
  url: string;
  /** The CA that signed the API server's certificate (PEM). */
  caPem: string;
  /** The proxy's own bearer token for the review requests. Never logged. */
  token: string;
}

/** The logging interface pino satisfies. */
export interface ProxyLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link startFakeKubeRbacProxy}. */
export interface FakeKubeRbacProxyOptions {
  /**
   * The upstream: `http://127.0.0.1:PORT` (plaintext HTTP/2 with prior
   * knowledge, the real `--upstream=http://… --upstream-force-h2c`) or
   * `unix:///path/to.sock` (a patched proxy). A path in the http URL is joined
   * in front of the request path, as Go's single-host reverse proxy does.
   * Required.
   */
  upstream: string;
  /** Certificate and key (PEM) served on the inbound TLS side. Required. */
  tls: { cert: string; key: string };
  /** Inbound port on 127.0.0.1. Default: 0 (an ephemeral port). */
  port?: number;
  /**
   * Validates a bearer token. `undefined` or a throw answers 401.
   * Default: a TokenReview against `kube`; one of the two is required.
   */
  authenticate?: (token: string) => Promise<ProxyIdentity | undefined>;
  /**
   * Decides a request. `false` answers 403, a throw answers 500 (as the real
   * proxy does on a SubjectAccessReview error).
   * Default: a SubjectAccessReview against `kube`; one of the two is required.
   */
  authorize?: (attributes: ProxyAuthorizationAttributes) => Promise<boolean>;
  /** The Kubernetes API for real TokenReviews and SubjectAccessReviews. Default: none. */
  kube?: ProxyKubeConnection;
  /**
   * Accepted token audiences (`--auth-token-audiences`), sent in the
   * TokenReview; a token reviewed with none of them is refused. Used with
   * `kube` only. Default: `[]` (any audience).
   */
  audiences?: string[];
  /**
   * Path patterns with Go `path.Match` syntax (`--allow-paths`). A request
   * matching none is answered 404 before authentication. Default: `[]` (all
   * paths allowed).
   */
  allowPaths?: string[];
  /**
   * Authorize with these resource attributes instead of the non-resource
   * `{ path, verb }` (the real proxy's `authorization.resourceAttributes`).
   * Default: none.
   */
  resourceAttributes?: ProxyResourceAttributes;
  /**
   * Set the identity headers on the upstream request, overwriting what the
   * client sent (`--auth-header-fields-enabled`). When off, client-sent
   * identity headers pass through untouched. Default: `false`.
   */
  authHeaderFields?: boolean;
  /** `--auth-header-user-field-name`. Default: `"x-remote-user"`. */
  userHeader?: string;
  /** `--auth-header-groups-field-name`. Default: `"x-remote-groups"`. */
  groupsHeader?: string;
  /** `--auth-header-groups-field-separator`. Default: `"|"`. */
  groupSeparator?: string;
  /**
   * Reuse review results like the real proxy (`true`: its TTLs, 2 min for
   * TokenReviews, 5 min for allows, 30 s for denies). Off by default so that
   * a revoked token or rule takes effect on the next request.
   * Default: `false`.
   */
  cache?: boolean | ProxyCacheOptions;
  /** Where diagnostics go. Tokens are never logged. Default: quiet. */
  logger?: ProxyLogger;
}

/** Counters of what the proxy answered, for assertions. */
export interface ProxyStats {
  /** Every request received, answered or forwarded. */
  requests: number;
  /** Answered 401. */
  unauthenticated: number;
  /** Answered 403. */
  forbidden: number;
  /** Answered 404 (an `allowPaths` miss). */
  notFound: number;
}

/** A running fake kube-rbac-proxy. */
export interface FakeKubeRbacProxy extends AsyncDisposable {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Live counters; read them after the calls under test have ended. */
  stats: Readonly<ProxyStats>;
  /** Open inbound HTTP/2 sessions. */
  connections(): number;
  /** Fault injection: destroys every open session, inbound and upstream. The proxy keeps listening. */
  dropConnections(): void;
  /** Stops listening and destroys every session, so it never waits for a live stream. */
  close(): Promise<void>;
}

/**
 * Opt-in caching of review results, as the real proxy does: its delegating
 * authenticator keeps TokenReview results (authenticated or not) for 2
 * minutes, its delegating authorizer keeps SubjectAccessReview allows for 5
 * minutes and denies for 30 seconds. Errors are never cached.
 */
export interface ProxyCacheOptions {
  /** How long a TokenReview result is reused. Default: 120 000 ms. */
  authenticationTtlMs?: number;
  /** How long an allowing SubjectAccessReview is reused. Default: 300 000 ms. */
  allowTtlMs?: number;
  /** How long a denying SubjectAccessReview is reused. Default: 30 000 ms. */
  denyTtlMs?: number;
  /** The clock, so tests can move time. Default: `Date.now`. */
  now?: () => number;
}
