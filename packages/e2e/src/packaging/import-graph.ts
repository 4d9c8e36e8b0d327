import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { exportTarget, packageDir, readManifest, scope } from "./workspace.js";

export interface ImportGraph {
  /** Every source file reached, absolute paths. */
  files: Set<string>;
  /** Bare specifiers of packages outside the workspace, mapped to a file importing each. */
  external: Map<string, string>;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** `./x.js` in TypeScript source means `./x.ts`; also accept extensionless and directory imports. */
function resolveRelative(fromFile: string, specifier: string): string {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(c|m)?js$/, "");
  const candidates = [`${stem}.ts`, `${stem}.mts`, `${stem}.d.ts`, base, join(base, "index.ts")];
  const found = candidates.find(isFile);
  if (!found) throw new Error(`cannot resolve "${specifier}" imported by ${fromFile}`);
  return found;
}

/** `@operator-plugin-framework/<name>[/sub]` resolves to the source behind its exports entry. */
export function resolveWorkspaceEntry(specifier: string): string {
  const [, name, ...rest] = specifier.split("/");
  const dir = packageDir(name!);
  const subpath = rest.length > 0 ? `./${rest.join("/")}` : ".";
  const target = exportTarget(readManifest(dir), subpath, "opf-source");
  if (!target) throw new Error(`${specifier}: no "opf-source" export for ${subpath} in ${dir}/package.json`);
  return join(dir, target);
}

/** The package part of a bare specifier: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/**
 * Static walk of the import graph from the given entry files. It follows
 * relative imports and workspace packages' entry points, and records every
 * other bare specifier. Type-only imports count too: a declaration file that
 * names a package breaks the type check of a user who does not have it.
 */
export function walkImports(entries: string[]): ImportGraph {
  const files = new Set<string>();
  const external = new Map<string, string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName: specifier } of info.importedFiles) {
      if (specifier.startsWith(".")) {
        queue.push(resolveRelative(file, specifier));
      } else if (specifier.startsWith(`${scope}/`)) {
        queue.push(resolveWorkspaceEntry(specifier));
      } else if (!specifier.startsWith("node:")) {
        const name = packageNameOf(specifier);
        if (!external.has(name)) external.set(name, file);
      }
    }
  }
  return { files, external };
}
