// The IPC protocol between a hostile-input test and its operator child process.

/** How the operator child authenticates plugins. */
export type ChildAuth =
  | { mode: "none" }
  | { mode: "proxy-headers"; trustProxyHeadersFrom?: string[] }
  | { mode: "token-review"; kubeconfig: string; audiences: string[]; reviewTimeoutMs: number };

/** How the operator child binds plugin names to identities (with an authenticator). */
export type ChildNamePolicy = "service-account-name" | "all";

/** The operator child's configuration, sent once after it is forked. */
export interface ChildConfig {
  auth: ChildAuth;
  /** Default: "service-account-name" (a ServiceAccount may register only its own name). */
  namePolicy?: ChildNamePolicy;
  /** The server's registerTimeoutMs. Default: the server's. */
  registerTimeoutMs?: number;
  /** The server's stream and session caps. Default: the server's. */
  caps?: {
    maxStreamsPerConnection?: number;
    maxUnregisteredStreamsPerConnection?: number;
    maxUnregisteredStreams?: number;
    maxSessionsPerIdentity?: number;
  };
}

/** What the operator child counted since it started. */
export interface ChildCounters {
  /** Sessions registered. */
  registered: number;
  /** Sessions live now. */
  sessions: number;
  /**
   * Streams the server refused, by gRPC status name or by the cap that
   * refused them, from its pluginframework_refusals_total metric.
   */
  refused: Record<string, number>;
}

/** The operator's memory after a forced GC, in bytes. */
export interface ChildMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The outcome of the operator's continuous calls to a plugin. */
export interface CallReport {
  ok: number;
  failed: number;
  /** The first few failures, as "CODE: details". */
  errors: string[];
}

export type ChildRequest =
  | { type: "start"; config: ChildConfig }
  | { type: "memory" }
  | { type: "counters" }
  | { type: "wait-registered"; name: string; timeoutMs: number }
  | { type: "start-calls"; name: string; timeoutMs: number }
  | { type: "stop-calls" }
  | { type: "stop" };

export type ChildReply =
  | { type: "ready"; address: string }
  | { type: "failed"; error: string }
  | { type: "memory"; memory: ChildMemory }
  | { type: "counters"; counters: ChildCounters }
  | { type: "wait-registered"; ok: boolean }
  | { type: "calls-started" }
  | { type: "calls"; report: CallReport }
  | { type: "stopped" };
