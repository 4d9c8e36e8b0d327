// The IPC protocol of the core operator child (core-operator-child.ts): the
// harness's operator, without authentication, plus calls to several plugins
// at once (the offender is called too, which the attacks on replies need) and
// liveness settings.
import type { CallReport, ChildCounters, ChildMemory } from "./protocol.js";

/** The core operator child's configuration. */
export interface CoreConfig {
  /** The server's keepalive. Default: the server's. */
  keepalive?: { intervalMs: number; timeoutMs: number };
  /**
   * Authenticate every stream, taking this long (as a slow TokenReview
   * would), and admit every name. Default: no authentication.
   */
  slowAuthMs?: number;
}

export type CoreRequest =
  | { type: "start"; config: CoreConfig }
  | { type: "memory" }
  | { type: "counters" }
  | { type: "wait-registered"; name: string; timeoutMs: number }
  | { type: "start-calls"; name: string; timeoutMs: number; concurrency: number }
  | { type: "stop-calls"; name: string }
  | { type: "stop" };

export type CoreReply =
  | { type: "ready"; address: string }
  | { type: "failed"; error: string }
  | { type: "memory"; memory: ChildMemory }
  | { type: "counters"; counters: ChildCounters }
  | { type: "wait-registered"; ok: boolean }
  | { type: "calls-started" }
  | { type: "calls"; report: CallReport }
  | { type: "stopped" };
