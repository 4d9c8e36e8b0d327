#!/usr/bin/env node
// Rewrites publishConfig.exports of every public package from its exports,
// without the "opf-source" development condition: pnpm publish replaces
// exports with it. Run after adding or changing an entry point:
//   node scripts/sync-publish-config.mjs
// packages/e2e/src/packaging/publish-manifest.test.ts fails until you do.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const publicPackages = ["proto", "wire", "registry", "server", "client", "auth", "testkit", "cli"];

function withoutSourceCondition(target) {
  if (!target || typeof target !== "object") return target;
  return Object.fromEntries(
    Object.entries(target)
      .filter(([condition]) => condition !== "opf-source")
      .map(([condition, value]) => [condition, withoutSourceCondition(value)]),
  );
}

for (const pkg of publicPackages) {
  const file = join(root, "packages", pkg, "package.json");
  const manifest = JSON.parse(readFileSync(file, "utf8"));
  manifest.publishConfig = {
    ...manifest.publishConfig,
    access: "public",
    exports: withoutSourceCondition(manifest.exports),
  };
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
console.log(`publishConfig.exports synced for ${publicPackages.length} packages`);
