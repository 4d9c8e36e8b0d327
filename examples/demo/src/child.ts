import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** One JSON log line of a child (the examples log pino-style objects). */
export type LogLine = { msg?: string; [key: string]: unknown };

/** An example process the demo runs, with its log lines as awaitable events. */
export interface Child {
  readonly label: string;
  readonly process: ChildProcess;
  /** Resolves with the first line (already seen or still to come) that matches; rejects if the child exits first. */
  waitFor(what: string, match: (line: LogLine) => boolean): Promise<LogLine>;
  /** Every JSON log line seen so far. */
  lines(): readonly LogLine[];
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process has exited. */
  readonly alive: boolean;
}

const children = new Set<ChildProcess>();
// DEMO_VERBOSE=1 shows every log line of every child, for when something goes wrong.
const verbose = process.env.DEMO_VERBOSE === "1";

/**
 * Starts `script` (a TypeScript entry point) in its own Node process, with the
 * workspace resolved to sources. stdin stays a pipe the child watches: if the
 * demo dies, the pipe closes and the child stops too.
 */
export function startChild(label: string, script: string, args: string[], cwd: string): Child {
  const child = spawn(process.execPath, ["--conditions=opf-source", "--import", "tsx", script, ...args], {
    cwd,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, OPF_EXIT_WITH_PARENT: "1" },
  });
  children.add(child);
  const seen: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      alive = false;
      children.delete(child);
      resolve({ code, signal });
    });
  });
  createInterface({ input: child.stdout! }).on("line", (text) => {
    const line = parse(text);
    if (!line) return void process.stdout.write(`  [${label}] ${text}\n`);
    seen.push(line);
    if (verbose) process.stdout.write(`  [${label}] ${text}\n`);
    for (const waiter of waiters) if (waiter.match(line)) waiter.resolve(line);
  });
  // Errors the child prints are worth seeing as they happen.
  createInterface({ input: child.stderr! }).on("line", (text) =>
    process.stderr.write(`  [${label}] ${text}\n`),
  );
  child.stdin!.on("error", () => {}); // the child may be gone before we write

  return {
    label,
    process: child,
    exited,
    get alive() {
      return alive;
    },
    lines: () => seen,
    async waitFor(what, match) {
      const found = seen.find(match);
      if (found) return found;
      const waiter = { match, resolve: (_: LogLine) => {} };
      try {
        return await Promise.race([
          new Promise<LogLine>((resolve) => {
            waiter.resolve = resolve;
            waiters.add(waiter);
          }),
          exited.then(({ code, signal }) => {
            throw new Error(`${label} exited (${signal ?? `code ${code}`}) while waiting for ${what}`);
          }),
        ]);
      } finally {
        waiters.delete(waiter);
      }
    },
  };
}

/** Kills every child still running; synchronous, so it also works in an `exit` handler. */
export function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
}

function parse(text: string): LogLine | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}
