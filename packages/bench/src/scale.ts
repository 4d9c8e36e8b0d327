// The scale scenario: one operator process, `count` plugins spread over a few
// plugin-host processes, then an operator restart under all of them.
import type { Refusals } from "./plugin-host.js";
import type { Memory, Registration } from "./scale-operator.js";
import { median } from "./stats.js";
import { startWorker, stopAll, type Worker } from "./worker-pool.js";

/** Result of the scale scenario, as in bench-results.json. */
export interface ScaleResult {
  plugins: number;
  pluginProcesses: number;
  rssPerSessionKiB: number;
  heapPerSessionKiB: number;
  registerAllMs: number;
  /**
   * CPU per registration, µs, from the first connect until all were
   * registered: the operator's, and the plugin hosts' together (a real plugin
   * pays its share once per pod; here 2,500 plugins share a process).
   */
  cpuUsPerRegistration: { operator: number; plugins: number };
  /** The plugin hosts' nice value (they yield the CPU to the operator, as pods on other nodes would). */
  pluginNice: number;
  /** Operator event-loop delay while the plugins registered, ms. */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  /** The longest operator event-loop stalls during registration: when (ms from the start) and how long. */
  stalls: Registration["stalls"];
  /** Plugins' failed attempts during registration, by status code (caps refusing part of the burst). */
  refusals: Refusals;
  fanOutMs: number;
  fanOutColdMs: number;
  /** Operator CPU while idle, percent of one core per 1,000 sessions; and the plugin hosts', all together. */
  idleCpuPctPer1000: number;
  idlePluginCpuPctPer1000: number;
  operatorRssBaseMiB: number;
  storm: {
    /** From the old operator's stop until all are registered with the new one, ms. */
    allBackMs: number | null;
    /** Of which the old operator's drain and exit, ms. */
    stopMs: number;
    /** From the new operator listening until all are registered with it, ms. */
    afterListenMs: number | null;
    eventLoopP99Ms: number;
    eventLoopMaxMs: number;
    stalls: Registration["stalls"];
    /** Plugins' failed attempts from the stop until all were back, by status code. */
    refusals: Refusals;
    /** Registrations per second, second by second from the stop. */
    perSecond: number[];
    error?: string;
  };
  error?: string;
}

/** Options of {@link runScale}. */
export interface ScaleOptions {
  plugins: number;
  /** Plugin-host processes. */
  hosts: number;
  /** The idle window for keepalive CPU, ms (cover the 10 s ping interval in full runs). */
  idleMs: number;
  /**
   * Nice value of the plugin hosts. In a deployment plugins run in their own
   * pods, mostly on other nodes; here they share 2 cores with the operator,
   * and 4 busy hosts would leave it 2/5 of the machine, so that its event
   * loop delay measured their scheduling, not its own work. Default 10
   * (`SCALE_PLUGIN_NICE` overrides it, 0 to compare).
   */
  pluginNice?: number;
  nodeFlags: (role: string) => string[];
  log: (line: string) => void;
}

const cpu = (w: Worker) => w.call<number>("cpu");
/** The failed attempts of all hosts since the last count, summed by code, with one example of each code's details. */
async function refusals(hosts: Worker[], log?: (line: string) => void): Promise<Refusals> {
  const sum: Refusals = {};
  const examples = new Map<string, string>();
  type Counted = { counts: Refusals; examples: Record<string, string> };
  for (const counted of await Promise.all(hosts.map((h) => h.call<Counted>("refusals")))) {
    for (const [code, n] of Object.entries(counted.counts)) sum[code] = (sum[code] ?? 0) + n;
    for (const [code, details] of Object.entries(counted.examples))
      if (!examples.has(code)) examples.set(code, details);
  }
  for (const [code, details] of examples) log?.(`  scale:   ${code}, for example: ${details}`);
  return sum;
}
const stallText = (stalls: Registration["stalls"]) =>
  stalls.length
    ? stalls.map((s) => `${s.ms} ms at ${(s.atMs / 1000).toFixed(1)} s`).join(", ")
    : "none over 100 ms";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const { plugins: count, hosts: hostCount, log } = options;
  const names = Array.from({ length: count }, (_, i) => `p-${String(i).padStart(5, "0")}`);
  const workers: Worker[] = [];
  const start = async (label: string, role: "scale-operator" | "plugin-host", flags: string[] = []) => {
    const w = await startWorker(label, [role], { nodeFlags: [...flags, ...options.nodeFlags(label)] });
    workers.push(w);
    return w;
  };
  try {
    // The replacement operator is loaded up front so that the storm measures the restart, not tsx.
    const [operator, successor, ...hosts] = await Promise.all([
      start("scale-operator", "scale-operator", ["--expose-gc"]),
      start("scale-operator-2", "scale-operator", ["--expose-gc"]),
      ...Array.from({ length: hostCount }, (_, i) => start(`plugin-host-${i}`, "plugin-host")),
    ]);
    const pluginNice = options.pluginNice ?? Number(process.env.SCALE_PLUGIN_NICE ?? 10);
    await Promise.all(hosts.map((h) => h.call("nice", { value: pluginNice })));
    const target = await operator!.call<string>("listen", { port: 0 });
    const port = Number(new URL(target).port);
    const before = await operator!.call<Memory>("memory");
    // Generous, so that a loaded machine gives a slow figure rather than none.
    const timeoutMs = Math.max(90_000, count * 40);
    const cpu0 = await Promise.all([cpu(operator!), ...hosts.map(cpu)]);
    const t0 = Date.now();
    const registered = operator!.call<Registration>(
      "waitRegistered",
      { count, timeoutMs, since: t0, bucketMs: 1_000 },
      2 * timeoutMs,
    );
    // Handled at once: should a host fail first, the finally below ends the operator and this call with it.
    registered.catch(() => {});
    await Promise.all(
      hosts.map((h, i) =>
        h.call("connect", { target, names: names.filter((_, k) => k % hostCount === i) }, timeoutMs),
      ),
    );
    const reg = await withProgress(operator!, registered, count, log);
    if (!reg.ok) throw new Error(`${reg.registered} of ${count} plugins registered within ${timeoutMs} ms`);
    const registerAllMs = reg.doneAt - t0;
    const cpu1 = await Promise.all([cpu(operator!), ...hosts.map(cpu)]);
    const cpuUsPerRegistration = {
      operator: (cpu1[0]! - cpu0[0]!) / count,
      plugins: cpu1.slice(1).reduce((s, v, i) => s + v - cpu0[i + 1]!, 0) / count,
    };
    const registerRefusals = await refusals(hosts, log);
    log(
      `  scale: ${count} registered in ${registerAllMs} ms; failed attempts ${JSON.stringify(registerRefusals)}`,
    );
    log(`  scale: operator stalls ${stallText(reg.stalls)}`);
    log(
      `  scale: CPU per registration ${cpuUsPerRegistration.operator.toFixed(0)} µs operator, ` +
        `${cpuUsPerRegistration.plugins.toFixed(0)} µs plugin hosts (nice ${pluginNice}); ` +
        `event loop p99 ${reg.eventLoop.p99Ms.toFixed(1)} ms, max ${reg.eventLoop.maxMs.toFixed(1)} ms`,
    );
    const after = await operator!.call<Memory>("memory");

    const fanOuts: number[] = [];
    let error: string | undefined;
    for (let i = 0; i < 3; i++) {
      const r = await operator!.call<{ ms: number; failed: number; error?: string }>("fanout", {
        names,
        timeoutMs: 20_000,
      });
      fanOuts.push(r.ms);
      if (r.failed) error = `${r.failed} of ${count} fan-out calls failed: ${r.error}`;
    }

    const idle0 = await Promise.all([cpu(operator!), ...hosts.map(cpu)]);
    const w0 = performance.now();
    await sleep(options.idleMs);
    const idle1 = await Promise.all([cpu(operator!), ...hosts.map(cpu)]);
    const pct = (us: number) => (us / ((performance.now() - w0) * 1000)) * 100 * (1000 / count);
    const idleCpuPctPer1000 = pct(idle1[0]! - idle0[0]!);
    const idlePluginCpuPctPer1000 = pct(idle1.slice(1).reduce((s, v, i) => s + v - idle0[i + 1]!, 0));
    log(`  scale: fan-out ${fanOuts.map((f) => f.toFixed(0)).join(", ")} ms; idle CPU measured`);

    // A failed storm keeps the figures measured before it.
    const storm = await restart(operator!, successor!, hosts, port, count, timeoutMs, log).catch(
      (err): ScaleResult["storm"] => ({
        allBackMs: null,
        stopMs: Number.NaN,
        afterListenMs: null,
        eventLoopP99Ms: Number.NaN,
        eventLoopMaxMs: Number.NaN,
        stalls: [],
        refusals: {},
        perSecond: [],
        error: err instanceof Error ? err.message : String(err),
      }),
    );
    log(
      `  scale: storm, all back in ${storm.allBackMs?.toFixed(0) ?? "—"} ms (stop ${storm.stopMs} ms, ` +
        `after listening ${storm.afterListenMs ?? "—"} ms); event loop p99 ${storm.eventLoopP99Ms.toFixed(1)} ms; ` +
        `per second ${storm.perSecond.join(" ")}`,
    );
    return {
      plugins: count,
      pluginProcesses: hostCount,
      rssPerSessionKiB: (after.rss - before.rss) / count / 1024,
      heapPerSessionKiB: (after.heapUsed - before.heapUsed) / count / 1024,
      registerAllMs,
      cpuUsPerRegistration,
      pluginNice,
      eventLoopP99Ms: reg.eventLoop.p99Ms,
      eventLoopMaxMs: reg.eventLoop.maxMs,
      stalls: reg.stalls,
      refusals: registerRefusals,
      fanOutMs: median(fanOuts.slice(1)),
      fanOutColdMs: fanOuts[0]!,
      idleCpuPctPer1000,
      idlePluginCpuPctPer1000,
      operatorRssBaseMiB: before.rss / 1024 / 1024,
      storm,
      ...(error ? { error } : {}),
    };
  } finally {
    // Plugins first: closing the operator first would start 10,000 reconnect loops.
    await stopAll(workers.filter((w) => w.label.startsWith("plugin-host")));
    await stopAll(workers.filter((w) => !w.label.startsWith("plugin-host")));
  }
}

/** Logs the operator's registration count every 5 s until `registration` settles. */
async function withProgress(
  operator: Worker,
  registration: Promise<Registration>,
  count: number,
  log: (line: string) => void,
): Promise<Registration> {
  const timer = setInterval(() => {
    operator.call<number>("count", {}, 5_000).then(
      (n) => log(`  scale: ${n} of ${count} registered`),
      () => {},
    );
  }, 5_000);
  try {
    return await registration;
  } finally {
    clearInterval(timer);
  }
}

/** Stops the operator as a rollout would, starts its successor on the same port, and waits for every plugin. */
async function restart(
  old: Worker,
  successor: Worker,
  hosts: Worker[],
  port: number,
  count: number,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<ScaleResult["storm"]> {
  await refusals(hosts); // from here on, the storm's
  const t0 = Date.now();
  const serverStop = await old.call<{ ms: number; fields: object | undefined }>("stop", {}, 60_000);
  await old.stop();
  const stopMs = Date.now() - t0;
  log(
    `  scale: old operator's stop() took ${serverStop.ms.toFixed(0)} ms ${JSON.stringify(serverStop.fields)}, ` +
      `its process gone after ${stopMs} ms`,
  );
  await successor.call("listen", { port });
  const listening = Date.now();
  const reg = await withProgress(
    successor,
    successor.call<Registration>(
      "waitRegistered",
      { count, timeoutMs, since: t0, bucketMs: 1_000 },
      2 * timeoutMs,
    ),
    count,
    log,
  );
  const stormRefusals = await refusals(hosts, log);
  log(
    `  scale: storm failed attempts ${JSON.stringify(stormRefusals)}; operator stalls ${stallText(reg.stalls)}`,
  );
  return {
    allBackMs: reg.ok ? reg.doneAt - t0 : null,
    stopMs,
    afterListenMs: reg.ok ? reg.doneAt - listening : null,
    eventLoopP99Ms: reg.eventLoop.p99Ms,
    eventLoopMaxMs: reg.eventLoop.maxMs,
    stalls: reg.stalls,
    refusals: stormRefusals,
    perSecond: reg.curve,
    ...(reg.ok ? {} : { error: `${reg.registered} of ${count} plugins back within ${timeoutMs} ms` }),
  };
}
