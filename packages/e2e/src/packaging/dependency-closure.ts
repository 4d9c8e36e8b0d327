import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Manifest, readManifest } from "./workspace.js";

/**
 * The names a package's production install pulls in: `dependencies`,
 * `optionalDependencies` and the peers npm installs (non-optional ones).
 * devDependencies and optional peers never reach a user's node_modules.
 */
export function productionDependencyNames(manifest: Manifest): string[] {
  const optionalPeers = new Set(
    Object.entries(manifest.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta.optional)
      .map(([name]) => name),
  );
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name));
  return [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...peers,
  ];
}

/** Node's lookup of an installed package: node_modules/<name> in this directory or any parent. */
function findInstalled(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Walks the installed workspace (laid out by pnpm from the lockfile) from one
 * package through its production dependencies, the way `npm install <pkg>`
 * would fetch them. Returns every package name in the closure, the start
 * excluded. Workspace packages are followed through their package.json, which
 * is what gets published (with `workspace:^` replaced by a version).
 */
export function productionClosure(startDir: string): Set<string> {
  const names = new Set<string>();
  const visited = new Set<string>();
  const queue = [realpathSync(startDir)];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    if (visited.has(dir)) continue;
    visited.add(dir);
    for (const name of productionDependencyNames(readManifest(dir))) {
      names.add(name);
      const installed = findInstalled(dir, name);
      if (installed) queue.push(installed);
    }
  }
  return names;
}
