import { runCli } from "@operator-plugin-framework/cli";

/** The metric families the demo shows: sessions, registrations and the calls the leader made. */
const SHOWN = [
  "pluginframework_sessions{",
  "pluginframework_registrations_total{",
  "pluginframework_calls_handled_total{",
];
/** The demo shows a few lines, not the whole scrape. */
const MAX_LINES = 6;

/**
 * `curl http://ADDRESS/metrics`, reduced to a few `pluginframework_*` samples
 * with a value: the families above in that order, and within the call
 * counts the operator's calls to plugins (caller="operator") first.
 */
export async function metricsExcerpt(address: string): Promise<string[]> {
  const response = await fetch(`http://${address}/metrics`);
  if (response.status !== 200) throw new Error(`GET http://${address}/metrics answered ${response.status}`);
  const text = await response.text();
  const samples = text.split("\n").filter((line) => SHOWN.some((prefix) => line.startsWith(prefix)));
  if (samples.length === 0) throw new Error(`no pluginframework_* samples at http://${address}/metrics`);
  // The leader's own calls before the plugins' host calls, so the excerpt shows both kinds.
  const rank = (line: string) =>
    SHOWN.findIndex((prefix) => line.startsWith(prefix)) * 2 + (line.includes('caller="plugin"') ? 1 : 0);
  return samples
    .filter((line) => !/ 0$/.test(line))
    .sort((a, b) => rank(a) - rank(b))
    .slice(0, MAX_LINES);
}

/**
 * Runs one `opf` command line against the admin service at `admin`, in this
 * process (the same code as the `opf` bin, without a Node start per call),
 * and returns what it printed. Throws with its stderr when it exits non-zero.
 */
export async function opf(admin: string, args: string[]): Promise<string> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(["--admin", admin, ...args], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
  });
  if (code !== 0) throw new Error(`opf ${args.join(" ")} exited ${code}: ${stderr}`);
  return stdout;
}

/** A command line as a person types it: arguments with spaces or quotes in single quotes. */
export function shellLine(args: string[]): string {
  return args.map((arg) => (/^[\w./:=@-]+$/.test(arg) ? arg : `'${arg}'`)).join(" ");
}
