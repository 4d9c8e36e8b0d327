// Summarizes .cpuprofile files: self and inclusive time per function, with the
// project's own code (packages/*) listed separately so tunnel hot spots stand out.
// Usage: node --import tsx packages/bench/src/profile-summary.ts bench/profiles/<worker>/CPU.*.0.001.cpuprofile...
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const label = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/)/, "");
  return `${functionName || "(anonymous)"} (${file || "native"}:${lineNumber + 1})`;
};

function summarize(nodes: Node[]) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  // Inclusive: hits of a node's subtree, counted once per function per stack (no double count on recursion).
  const walk = (node: Node, onStack: Set<string>): number => {
    let hits = node.hitCount ?? 0;
    const key = label(node);
    total += node.hitCount ?? 0;
    self.set(key, (self.get(key) ?? 0) + (node.hitCount ?? 0));
    const fresh = !onStack.has(key);
    if (fresh) onStack.add(key);
    for (const child of node.children ?? []) hits += walk(byId.get(child)!, onStack);
    if (fresh) {
      onStack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
    return hits;
  };
  walk(nodes[0]!, new Set());
  return { self, inclusive, total };
}

const pct = (hits: number, total: number) => `${((hits / Math.max(1, total)) * 100).toFixed(1).padStart(5)}%`;

for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(await readFile(file, "utf8")) as { nodes: Node[] };
  const { self, inclusive, total } = summarize(profile.nodes);
  const busy = total - (self.get("(idle) (native:0)") ?? 0);
  console.log(
    `\n${basename(file)}: ${total} samples, ${pct(busy, total)} busy; shares below are of busy time`,
  );
  const top = (map: Map<string, number>, filter: (k: string) => boolean, n: number) =>
    [...map.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v, busy)} ${k}`)
      .join("\n");
  console.log(" self, all code:");
  console.log(top(self, (k) => !k.startsWith("(idle)"), 15));
  console.log(" inclusive, project code (server, client, registry, proto/wire):");
  console.log(top(inclusive, (k) => /\((server|client|registry|proto)\/src\//.test(k), 15));
}
