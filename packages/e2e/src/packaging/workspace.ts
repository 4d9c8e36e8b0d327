import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The monorepo root (this file lives in packages/e2e/src/packaging). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export const scope = "@operator-plugin-framework";

/** The packages that are published to npm; each must work on its own. */
export const publicPackages = [
  "proto",
  "wire",
  "registry",
  "server",
  "client",
  "auth",
  "testkit",
  "cli",
] as const;
export type PublicPackage = (typeof publicPackages)[number];

export type ExportTarget = string | { [condition: string]: ExportTarget } | null;

export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, ExportTarget>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export function packageDir(name: string): string {
  return join(repoRoot, "packages", name);
}

export function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** Resolves one condition of an exports entry, e.g. "opf-source" or "default". */
export function exportTarget(manifest: Manifest, subpath: string, condition: string): string | undefined {
  let target: ExportTarget | undefined = manifest.exports?.[subpath];
  while (target && typeof target === "object") {
    target = target[condition] ?? target.default;
  }
  return target ?? undefined;
}
