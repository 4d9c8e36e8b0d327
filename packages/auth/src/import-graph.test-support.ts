import { existsSync, readFileSync, realpathSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";

const workspacePackages = resolve(import.meta.dirname, "../..");

/** The package name of a bare specifier: "@scope/name" or "name". */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function findPackageDir(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = dir.endsWith("/node_modules") ? join(dir, name) : join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function workspaceEntry(specifier: string): string | undefined {
  const name = packageName(specifier);
  if (!name.startsWith("@operator-plugin-framework/")) return undefined;
  const dir = join(workspacePackages, name.slice("@operator-plugin-framework/".length));
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const subpath = `.${specifier.slice(name.length)}`;
  const entry = manifest.exports?.[subpath]?.["opf-source"];
  if (typeof entry !== "string") throw new Error(`${specifier}: no opf-source export ${subpath}`);
  return join(dir, entry);
}

/**
 * Walks the source import graph from `entry` (static, dynamic and type
 * imports, through workspace packages' sources) and returns every external
 * package it reaches, each with the file that imports it.
 */
export function externalImports(entry: string): Map<string, string> {
  const external = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (specifier.startsWith(".")) {
        queue.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      } else if (specifier.startsWith("node:") || builtinModules.includes(specifier)) {
        // Node's own modules pull in nothing.
      } else {
        const workspaceFile = workspaceEntry(specifier);
        if (workspaceFile !== undefined) queue.push(workspaceFile);
        else if (!external.has(packageName(specifier))) external.set(packageName(specifier), file);
      }
    }
  }
  return external;
}

/**
 * Every package an install of `name` (found from `fromDir`) brings along:
 * its dependencies and required peer dependencies, transitively.
 */
export function installClosure(name: string, fromDir: string): Set<string> {
  const closure = new Set<string>();
  const queue: Array<[string, string]> = [[name, fromDir]];
  while (queue.length > 0) {
    const [current, from] = queue.pop()!;
    if (closure.has(current)) continue;
    const dir = findPackageDir(from, current);
    if (dir === undefined) continue;
    closure.add(current);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const optionalPeers = new Set(
      Object.entries(manifest.peerDependenciesMeta ?? {})
        .filter(([, meta]) => (meta as { optional?: boolean }).optional === true)
        .map(([peer]) => peer),
    );
    const deps = [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}).filter((peer) => !optionalPeers.has(peer)),
    ];
    for (const dep of deps) queue.push([dep, dir]);
  }
  return closure;
}
