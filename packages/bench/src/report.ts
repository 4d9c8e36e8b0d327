// Markdown tables of a run (readable in a terminal too).
import type { MixedResult } from "./mixed.js";
import type { ScaleResult } from "./scale.js";
import type { Range } from "./stats.js";
import type { ScenarioResult } from "./summarize.js";
import type { Target } from "./targets.js";

export const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v)
    ? "—"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** "4.05 (3.90–4.20)": a paired ratio's median and its range over the rounds. */
export const fmtRange = (r: Range | null | undefined, digits = 2) =>
  r ? `${fmt(r.median, digits)} (${fmt(r.min, digits)}–${fmt(r.max, digits)})` : "—";

/** The scenario rows of one layout. */
export function table(results: ScenarioResult[]): string {
  const lines = [
    "| scenario | variant | ops/s (median) | spread | p50 µs | p99 µs | CPU µs/op caller | callee | ÷ direct (min–max) | ÷ floor (min–max) | ÷ tunnel |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const ops =
      r.error && r.opsPerSec === null
        ? `FAILED: ${r.error.slice(0, 100)}`
        : `${fmt(r.opsPerSec)} ${r.unit}/s`;
    const cpu = r.cpuUsPerCall;
    const callee =
      cpu.proxy === undefined ? fmt(cpu.callee, 1) : `${fmt(cpu.callee, 1)} (+${fmt(cpu.proxy, 1)} proxy)`;
    lines.push(
      `| ${r.name} | ${r.variant} | ${ops} | ${r.spreadPct === null ? "—" : `±${fmt(r.spreadPct / 2)}%`} | ${fmt(r.p50us)} | ${fmt(r.p99us)} | ${fmt(cpu.caller, 1)} | ${callee} | ${fmtRange(r.ratioSpread.vsDirect)} | ${fmtRange(r.ratioSpread.vsFloor)} | ${fmtRange(r.ratioSpread.vsTunnel)} |`,
    );
  }
  const failed = results.filter((r) => r.error && r.opsPerSec !== null);
  for (const r of failed) lines.push(`\n${r.name} / ${r.variant}: failed after ${r.runs} rounds: ${r.error}`);
  return lines.join("\n");
}

export function mixedTable(results: MixedResult[]): string {
  return [
    "| scenario | variant | idle p50 µs | idle p99 µs | loaded p50 µs | loaded p99 µs | loaded ÷ idle p99 (min–max) | operator event-loop p99 µs, idle / loaded | transfer ms (transfers) | calls during transfers |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map((r) =>
      r.runs === 0
        ? `| ${r.name} | ${r.variant} | FAILED: ${r.error ?? "no rounds"} ||||||||`
        : `| ${r.name} | ${r.variant} | ${fmt(r.idleP50us)} | ${fmt(r.idleP99us)} | ${fmt(r.loadedP50us)} | ${fmt(r.loadedP99us)} | ${fmtRange(r.p99Ratio)} | ${fmt(r.idleLoopP99us)} / ${fmt(r.loadedLoopP99us)} | ${fmt(r.transferMs)} (${fmt(r.transfers)}) | ${fmt(r.loadedCalls)} |`,
    ),
  ].join("\n");
}

export function scaleTable(scale: ScaleResult | { plugins: number; error: string }): string {
  if (!("rssPerSessionKiB" in scale))
    return `scale scenario (${scale.plugins} plugins) FAILED: ${scale.error}`;
  const s = scale.storm;
  return [
    "| plugins (processes) | operator RSS / session | heap / session | all registered | event loop p99 / max | fan-out warm (cold) | idle CPU per 1,000: operator / plugins |",
    "|---:|---:|---:|---:|---:|---:|---:|",
    `| ${scale.plugins} (${scale.pluginProcesses}) | ${fmt(scale.rssPerSessionKiB, 1)} KiB | ${fmt(scale.heapPerSessionKiB, 1)} KiB | ${fmt(scale.registerAllMs)} ms | ${fmt(scale.eventLoopP99Ms, 1)} / ${fmt(scale.eventLoopMaxMs, 1)} ms | ${fmt(scale.fanOutMs)} (${fmt(scale.fanOutColdMs)}) ms | ${fmt(scale.idleCpuPctPer1000, 2)} % / ${fmt(scale.idlePluginCpuPctPer1000, 2)} % of a core |`,
    "",
    `Registration storm (operator restarted under ${scale.plugins} plugins): all back in ${fmt(s.allBackMs)} ms` +
      ` (old operator's drain and exit: ${fmt(s.stopMs)} ms; from the new one listening: ${fmt(s.afterListenMs)} ms), event loop p99 ${fmt(s.eventLoopP99Ms, 1)} ms, max ${fmt(s.eventLoopMaxMs, 1)} ms.`,
    `Registrations per second, from the stop: ${s.perSecond.map((n, i) => `${i}s:${n}`).join(" ")}`,
    ...(s.error ? [`storm error: ${s.error}`] : []),
    ...(scale.error ? [`scale error: ${scale.error}`] : []),
  ].join("\n");
}

export function targetTable(list: Target[]): string {
  return [
    "| target | goal | this run (median, min–max) | met |",
    "|---|---:|---:|---|",
    ...list.map((t) => {
      const value = t.range ? fmtRange(t.range, t.digits) : fmt(t.value, t.digits);
      const met =
        t.goal === "report" ? "reported" : t.met === null ? "not measured" : t.met ? "met" : "NOT met";
      return `| ${t.what} | ${t.goal === "report" ? "—" : t.goal.replace(/^(.)/, "$1 ")} | ${value} | ${met} |`;
    }),
  ].join("\n");
}
