import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Runs `work` under the V8 CPU profiler of this process and writes `<dir>/<name>.cpuprofile`. */
export async function profiled<T>(
  dir: string,
  name: string,
  work: () => Promise<T>,
): Promise<{ result: T; top: string[] }> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    const result = await work();
    const { profile } = await session.post("Profiler.stop");
    await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    return { result, top: topSelf(profile.nodes as ProfileNode[], 12) };
  } finally {
    session.disconnect();
  }
}

/** The functions with the most self time, as "share% name (file:line)". */
export function topSelf(nodes: ProfileNode[], n: number): string[] {
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/)/, "");
    const key = `${functionName || "(anonymous)"} (${file || "native"}:${lineNumber + 1})`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, hits]) => `${((hits / Math.max(1, total)) * 100).toFixed(1).padStart(5)}% ${key}`);
}
