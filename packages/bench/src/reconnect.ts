// The reconnect scenario, in the deployment layout: one operator process and
// N plugin processes. Each run kills the operator with SIGKILL (a crash, or a
// node lost), has a new operator process listen on the same port 1 s later,
// and times how long until every plugin is registered with it again.
import type { Registration } from "./scale-operator.js";
import { type Range, range } from "./stats.js";
import { startWorker, stopAll, type Worker } from "./worker-pool.js";

/** One restart: all times in ms. */
export interface ReconnectRun {
  /** From the kill until the new operator listened: the restart itself (process start, load, bind). */
  restartMs: number;
  /** From the new operator listening until every plugin registered with it. */
  afterListenMs: number | null;
  /** From the kill until every plugin registered with the new operator. */
  afterKillMs: number | null;
  /** Registrations per 100 ms from the kill. */
  curve: number[];
}

/** Result of the reconnect scenario, as in bench-results.json. */
export interface ReconnectResult {
  plugins: number;
  runs: ReconnectRun[];
  restart: Range | null;
  afterListen: Range | null;
  afterKill: Range | null;
  /** Target of issue 10: every run back within this of the new operator listening. */
  targetMs: number;
  error?: string;
}

/** Options of {@link runReconnect}. */
export interface ReconnectOptions {
  plugins: number;
  runs: number;
  nodeFlags: (role: string) => string[];
  log: (line: string) => void;
}

export const RECONNECT_TARGET_MS = 3_000;
// A session counts as healthy after 5 s registered (the client's default
// `backoff.healthyAfterMs`); each run lets the plugins pass that first.
const HEALTHY_MS = 5_500;
// The restart measured in issue 10 (process start to listening) took about 1 s.
const RESTART_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runReconnect(options: ReconnectOptions): Promise<ReconnectResult> {
  const { plugins: count, log } = options;
  const runs: ReconnectRun[] = [];
  const hosts: Worker[] = [];
  let operator: Worker | undefined;
  const startOperator = (run: number) =>
    startWorker(`reconnect-operator-${run}`, ["scale-operator"], {
      nodeFlags: options.nodeFlags(`reconnect-operator-${run}`),
      readyTimeoutMs: 180_000,
    });
  try {
    operator = await startOperator(0);
    const target = await operator.call<string>("listen", { port: 0 });
    const port = Number(new URL(target).port);
    // One process per plugin, as separate pods; loaded two at a time, since
    // a loaded 2-core machine thrashes when ten load at once.
    for (let i = 0; i < count; i += 2) {
      const batch = [i, i + 1].filter((k) => k < count);
      await Promise.all(
        batch.map(async (k) => {
          const label = `reconnect-plugin-${k}`;
          hosts[k] = await startWorker(label, ["plugin-host"], {
            nodeFlags: options.nodeFlags(label),
            readyTimeoutMs: 180_000,
          });
        }),
      );
    }
    const first = waitAll(operator, count, Date.now());
    await Promise.all(hosts.map((h, i) => h.call("connect", { target, names: [`plugin-${i}`] })));
    if (!(await first).ok) throw new Error(`not every plugin registered with the first operator`);
    for (let run = 1; run <= options.runs; run++) {
      // The successor process loads before the kill: loading tsx on this
      // shared machine takes 2-18 s, which would time the machine, not the
      // plugins. It listens RESTART_MS after the kill, as a restart would.
      const [successor] = await Promise.all([startOperator(run), sleep(HEALTHY_MS)]);
      const killedAt = Date.now();
      process.kill(operator.pid!, "SIGKILL");
      await operator.exited;
      operator = successor;
      await sleep(killedAt + RESTART_MS - Date.now());
      await operator.call("listen", { port });
      const listenedAt = await operator.call<number>("listenedAt");
      const reg = await waitAll(operator, count, killedAt);
      const result: ReconnectRun = {
        restartMs: listenedAt - killedAt,
        afterListenMs: reg.ok ? reg.doneAt - listenedAt : null,
        afterKillMs: reg.ok ? reg.doneAt - killedAt : null,
        curve: reg.curve,
      };
      runs.push(result);
      log(
        `  reconnect run ${run}: restart ${result.restartMs} ms, all ${count} back ${result.afterListenMs ?? "—"} ms after listening, ${result.afterKillMs ?? "—"} ms after the kill`,
      );
      if (!reg.ok) throw new Error(`run ${run}: ${reg.registered} of ${count} plugins back within 30 s`);
    }
    return summarizeRuns(count, runs);
  } catch (err) {
    return { ...summarizeRuns(count, runs), error: err instanceof Error ? err.message : String(err) };
  } finally {
    // Plugins first: stopping the operator first would start their reconnect loops.
    await stopAll(hosts);
    await stopAll([operator]);
  }
}

function waitAll(operator: Worker, count: number, since: number): Promise<Registration> {
  return operator.call<Registration>(
    "waitRegistered",
    { count, timeoutMs: 30_000, since, bucketMs: 100 },
    60_000,
  );
}

function summarizeRuns(plugins: number, runs: ReconnectRun[]): ReconnectResult {
  const values = (pick: (r: ReconnectRun) => number | null) =>
    runs.map(pick).filter((v): v is number => v !== null);
  return {
    plugins,
    runs,
    restart: range(values((r) => r.restartMs)),
    afterListen: range(values((r) => r.afterListenMs)),
    afterKill: range(values((r) => r.afterKillMs)),
    targetMs: RECONNECT_TARGET_MS,
  };
}

/** The scenario's table, summary and target line, in Markdown. */
export function reconnectReport(r: ReconnectResult): string {
  const ms = (v: number | null | undefined) =>
    v === null || v === undefined ? "—" : `${v.toLocaleString("en-US")} ms`;
  const row = (name: string, v: Range | null) =>
    `| ${name} | ${ms(v?.min)} | ${ms(v?.median)} | ${ms(v?.max)} |`;
  const met = r.afterListen !== null && r.runs.length > 0 && r.afterListen.max <= r.targetMs && !r.error;
  return [
    `Reconnect after an operator SIGKILL: ${r.plugins} plugin processes, ${r.runs.length} runs, a new operator process on the same port:`,
    "",
    "| from | min | median | max |",
    "|---|---:|---:|---:|",
    row("kill → new operator listening (the restart)", r.restart),
    row("new operator listening → all plugins registered", r.afterListen),
    row("kill → all plugins registered", r.afterKill),
    "",
    `Target (issue 10): all back within ${ms(r.targetMs)} of the new operator listening, in every run: ${met ? "met" : "NOT met"}`,
    ...(r.error ? [`reconnect error: ${r.error}`] : []),
  ].join("\n");
}
