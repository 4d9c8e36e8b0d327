import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  exportTarget,
  type PublicPackage,
  packageDir,
  publicPackages,
  readManifest,
  repoRoot,
  scope,
} from "./workspace.js";

/** One runtime export per entry point that a CommonJS user would reach for. */
const knownExports: Record<PublicPackage, Record<string, string[]>> = {
  proto: { ".": ["PluginStreamMessage"], "./example": ["GreeterServiceClient", "GreeterServiceService"] },
  wire: { ".": ["FrameScheduler", "PluginFrameworkError"] },
  registry: { ".": ["createPluginRegistry"] },
  server: { ".": ["createPluginServer"] },
  client: { ".": ["connectPlugin"] },
  auth: {},
  testkit: { ".": ["startTestServer"] },
  cli: { ".": ["runCli"] },
};

// Runs in a plain CommonJS child process: require() each specifier (Node's
// require(esm), unflagged since 20.19 / 22.12), then import() it, and report
// both export lists. The child resolves like a user's project would: through
// the "default" condition, i.e. the built dist/ files.
const childScript = `
const { createRequire } = require("node:module");
const { pathToFileURL } = require("node:url");
const req = createRequire(process.env.OPF_FROM);
(async () => {
  const out = {};
  for (const spec of JSON.parse(process.env.OPF_SPECS)) {
    const required = Object.keys(req(spec)).sort();
    const imported = Object.keys(await import(pathToFileURL(req.resolve(spec)).href)).sort();
    out[spec] = { required, imported };
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { console.error(error); process.exit(1); });
`;

type ChildReport = Record<string, { required: string[]; imported: string[] }>;

function requireInChild(specs: string[]): ChildReport {
  const output = execFileSync(process.execPath, ["--input-type=commonjs", "-e", childScript], {
    env: {
      ...process.env,
      NODE_OPTIONS: "",
      OPF_FROM: join(repoRoot, "packages", "e2e", "package.json"),
      OPF_SPECS: JSON.stringify(specs),
    },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(output) as ChildReport;
}

describe("CommonJS users load the built packages with require()", () => {
  for (const pkg of publicPackages) {
    it(`require("${scope}/${pkg}") and its subpaths return the ESM exports`, (ctx) => {
      const dir = packageDir(pkg);
      const manifest = readManifest(dir);
      const subpaths = Object.keys(manifest.exports ?? {});
      const built = subpaths.every((subpath) => {
        const target = exportTarget(manifest, subpath, "default");
        return target !== undefined && existsSync(join(dir, target));
      });
      if (!built) {
        const reason = `${scope}/${pkg} is not built (dist/ missing); run \`npm run build\` first`;
        if (process.env.OPF_REQUIRE_BUILD) throw new Error(reason);
        ctx.skip(reason);
      }
      const specs = subpaths.map((subpath) =>
        subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`,
      );
      const report = requireInChild(specs);
      for (const [index, spec] of specs.entries()) {
        const entry = report[spec]!;
        expect(entry.required, spec).toEqual(entry.imported);
        const known = knownExports[pkg][subpaths[index]!] ?? [];
        expect(entry.required, spec).toEqual(expect.arrayContaining(known));
      }
    });
  }
});
