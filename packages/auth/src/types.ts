/**
 * Contracts shared by the operator side (server) and the auth strategies.
 * Kept free of any Kubernetes client import so that the plugin side can load
 * this package's token entry point without pulling one in.
 */

/** Who is on the other end of a plugin stream, as established when it opened. */
export interface PluginIdentity {
  /** Kubernetes user name, e.g. "system:serviceaccount:plugins:aws". */
  user: string;
  /** Kubernetes groups, e.g. ["system:serviceaccounts", "system:authenticated"]. */
  groups: string[];
  /** Set when `user` is a ServiceAccount. */
  serviceAccount?: { namespace: string; name: string };
  /** Extra attributes from the authenticator, if any. */
  extra?: Record<string, string[]>;
}

/** What an authenticator sees of a new plugin stream. */
export interface StreamAuthContext {
  /** Request headers of the stream, lower-case keys, as received. */
  headers: Record<string, string | string[] | undefined>;
  /** Remote address, as "ip:port", "unix:..." or "unknown". */
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
  authenticate(context: StreamAuthContext): Promise<PluginIdentity>;
}

/** Decides whether an identity may register a plugin name. */
export type PluginNameAuthorizer = (
  identity: PluginIdentity,
  pluginName: string,
) => Promise<{ allowed: boolean; reason?: string }>;
