/** Memory of the operator process, bytes. */
export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export type ChildRequest =
  | { type: "memory" }
  | { type: "wait"; count: number; timeoutMs: number }
  | { type: "fanout"; names: string[]; timeoutMs: number }
  | { type: "stop" };

export type ChildReply =
  | { type: "ready"; target: string }
  | { type: "memory"; memory: Memory }
  | { type: "wait"; ok: boolean }
  | { type: "fanout"; ms: number; failed: number; error: string | undefined };
