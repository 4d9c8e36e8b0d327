/**
 * Contracts shared by the operator side (server) and the auth strategies.
 * Kept free of any Kubernetes client import so that the plugin side can load
 * this package's token entry point without pulling one in.
 */

/** Who is on the other end of a plugin stream, as established when it opened. */
export interface PluginIdentity {
  /** Kubernetes user name, e.g. "system:serviceaccount:plugins:aws". */
  user: string;
  /**
   * The user's UID when the authenticator knows it (a TokenReview reports
   * it; kube-rbac-proxy's headers do not). SubjectAccessReviews include it.
   */
  uid?: string;
  /** Kubernetes groups, e.g. ["system:serviceaccounts", "system:authenticated"]. */
  groups: string[];
  /** Set when `user` is a ServiceAccount. */
  serviceAccount?: { namespace: string; name: string };
  /** Extra attributes from the authenticator, if any. */
  extra?: Record<string, string[]>;
}

/** What an authenticator sees of a new plugin stream. */
export interface StreamAuthContext {
  /**
   * Request headers of the stream, lower-case keys, with every value of every
   * header field as received: a header sent twice has two entries, never one
   * joined string, so that an authenticator can refuse duplicates. Binary
   * (`-bin`) values are base64. Pseudo-headers are left out.
   */
  headers: Readonly<Record<string, readonly string[]>>;
  /**
   * Remote address as grpc-js reports it: "ip:port" (IPv6 without brackets,
   * e.g. "::1:5000"), or "unknown" for a unix-socket peer, which has no address.
   */
  peer: string;
  /** The gRPC method path of the stream. */
  path: string;
}

/**
 * Establishes the identity of a new stream. Throws a PluginFrameworkError
 * (UNAUTHENTICATED or PERMISSION_DENIED) to refuse it.
 */
export interface StreamAuthenticator {
  /** Short name for logs, e.g. "proxy-headers", "token-review", "none". */
  readonly mode: string;
  /**
   * Set by authenticators that believe what the connecting peer says about
   * itself (identity headers). The server then refuses to start on any
   * listen address but loopback or a unix socket, unless `trustedFrom` names
   * the proxies allowed to connect from elsewhere. Default: unset.
   */
  readonly trustsPeerHeaders?: PeerHeaderTrust;
  authenticate(context: StreamAuthContext): Promise<PluginIdentity>;
}

/** Decides whether an identity may register a plugin name. */
export type PluginNameAuthorizer = (
  identity: PluginIdentity,
  pluginName: string,
) => Promise<{ allowed: boolean; reason?: string }>;

/** What an authenticator that believes its peer's headers requires of the listener. */
export interface PeerHeaderTrust {
  /** The headers believed, for error messages, e.g. `["x-remote-user", "x-remote-groups"]`. */
  readonly headers: readonly string[];
  /**
   * Addresses or CIDR ranges, besides loopback and unix-socket peers, whose
   * headers are believed. Empty: loopback and unix sockets only.
   */
  readonly trustedFrom: readonly string[];
  /** The option that sets `trustedFrom`, named in error messages, e.g. `"trustProxyHeadersFrom"`. */
  readonly option: string;
}
