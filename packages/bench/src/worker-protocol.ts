/** A request from the parent to a worker process. */
export interface Request {
  id: number;
  method: string;
  args: unknown;
}

/** A worker's answer: `value`, or `error` (a message) when the handler threw. */
export interface Reply {
  id: number;
  value?: unknown;
  error?: string;
}

/** The ready signal a worker sends once its roles are loaded. */
export const READY = { id: 0, value: "ready" } satisfies Reply;

/** The roles a worker process can take; one process may take several (the one-process layout). */
export type RoleName = "caller" | "callee" | "proxy" | "scale-operator" | "plugin-host";

/** What a role module exports: its handlers, by method name, and `close` to release everything. */
// `never`: every handler takes its own argument type, checked by the parent's call site instead.
export type Handlers = Record<string, (args: never) => unknown>;

/** CPU time of a process so far, user + system, µs. */
export function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
