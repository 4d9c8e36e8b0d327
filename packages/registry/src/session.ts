import type { ChannelInterface as Channel } from "@operator-plugin-framework/wire";

/**
 * Who is on the other end of a plugin stream, as the server's authenticator
 * established it when the stream opened. The one definition: auth's
 * `PluginIdentity` and a session's `identity` are this type.
 */
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

/** Who a session's plugin is: the same type as `PluginIdentity`. */
export type SessionIdentity = PluginIdentity;

/** A service a plugin announced at registration. */
export interface AnnouncedService {
  name: string;
  methods: { name: string; clientStreaming: boolean; serverStreaming: boolean }[];
}

/**
 * One live connection of one plugin instance. Several sessions with the same
 * name are replicas of one plugin. The server creates sessions; the registry
 * only reads them.
 */
export interface PluginSession {
  /** Unique id of this session, for logs. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** 0 for a seed (Go prototype) plugin, which supports unary calls only. */
  readonly protocolRevision: number;
  readonly identity: SessionIdentity | undefined;
  readonly connectedAt: Date;
  /** Remote address of the plugin's stream, as the server saw it. */
  readonly peer: string;
  readonly services: readonly AnnouncedService[];
  /**
   * Labels the plugin announced at registration, e.g. `{ region: "eu" }`:
   * Kubernetes label syntax, bounded by the operator (see `connectPlugin`'s
   * `labels`). Empty for a plugin that announced none, and for seed plugins.
   */
  readonly labels: Readonly<Record<string, string>>;
  /** Calls open on this session now. */
  readonly inFlight: number;
  /** False once the session is draining or closed: it takes no new calls. */
  readonly accepting: boolean;
  /**
   * True while the session is being replaced (maximum age reached): it still
   * takes calls, but a fresh session of the same plugin is preferred.
   */
  readonly retiring: boolean;
  /** A grpc-js Channel whose calls go through this session's stream. */
  readonly channel: Channel;
}
