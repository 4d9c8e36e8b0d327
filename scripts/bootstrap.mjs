#!/usr/bin/env node
// Installs the workspace with the pinned pnpm when a fresh clone (or a changed
// lockfile) needs it, so `npm run demo` and `npm test` work with only Node and npm.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, "node_modules", ".modules.yaml");
const lockfile = join(root, "pnpm-lock.yaml");
const fresh =
  existsSync(marker) && (!existsSync(lockfile) || statSync(marker).mtimeMs >= statSync(lockfile).mtimeMs);
if (!fresh || process.env.OPF_FORCE_INSTALL) {
  const args = ["-y", "pnpm@10.34.8", "install", "--prefer-offline"];
  if (process.env.CI) args.push("--frozen-lockfile");
  console.error(`[bootstrap] installing dependencies: npx ${args.join(" ")}`);
  execFileSync("npx", args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
}
