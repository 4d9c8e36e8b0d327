// Checks every @operator-plugin-framework package installed in the current
// directory's node_modules, as npm installed it from the registry:
// - the published manifest has no "opf-source" condition and no src/ target,
//   and the tarball holds no TypeScript sources (only .d.ts) and a LICENSE;
// - CommonJS: require() of every exported subpath returns the same export
//   names as import() (Node's require(esm)), including the ones listed below.
// Prints one line per package, then the checked package names on one last line.
const { readdirSync, readFileSync, existsSync, statSync } = require("node:fs");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const scopeDir = join(process.cwd(), "node_modules", "@operator-plugin-framework");

/** One runtime export per entry point that a CommonJS user would reach for. */
const knownExports = {
  proto: { ".": ["PluginStreamMessage"], "./example": ["GreeterServiceClient", "GreeterServiceService"] },
  wire: { ".": ["FrameScheduler", "PluginFrameworkError"] },
  registry: { ".": ["createPluginRegistry"] },
  server: { ".": ["createPluginServer"] },
  client: { ".": ["connectPlugin"] },
  auth: { "./token": ["staticToken"], "./operator": ["subjectAccessReviewNameAuthorizer"] },
  testkit: { ".": ["startTestServer"] },
  cli: { ".": ["runCli"] },
};

function filesUnder(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path).map((file) => join(entry, file)) : [entry];
  });
}

async function inspect(pkg) {
  const dir = join(scopeDir, pkg);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const problems = [];
  const skipped = [];
  const text = JSON.stringify(manifest.exports);
  if (text.includes("opf-source")) problems.push("exports has the opf-source condition");
  if (text.includes("./src/")) problems.push("exports points into src/");
  // Documentation under src/ (testkit's proxy README) may ship; code may not.
  const srcCode = existsSync(join(dir, "src"))
    ? filesUnder(join(dir, "src")).filter((f) => !f.endsWith(".md"))
    : [];
  if (srcCode.length > 0) problems.push(`src/ was published: ${srcCode.slice(0, 3).join(", ")}`);
  const sources = filesUnder(dir).filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f));
  if (sources.length > 0) problems.push(`TypeScript sources published: ${sources.slice(0, 3).join(", ")}`);
  if (!existsSync(join(dir, "LICENSE"))) problems.push("no LICENSE file");
  for (const [range, name] of Object.entries(manifest.dependencies ?? {}).map(([n, r]) => [r, n])) {
    if (range.startsWith("workspace:")) problems.push(`dependency ${name} kept the range ${range}`);
  }
  for (const subpath of Object.keys(manifest.exports ?? {})) {
    const spec = subpath === "." ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    try {
      const required = Object.keys(require(spec)).sort();
      const imported = Object.keys(await import(pathToFileURL(require.resolve(spec)).href)).sort();
      if (JSON.stringify(required) !== JSON.stringify(imported)) {
        problems.push(`require("${spec}") and import() differ: ${required} vs ${imported}`);
      }
      const missing = (knownExports[pkg]?.[subpath] ?? []).filter((name) => !required.includes(name));
      if (missing.length > 0) problems.push(`require("${spec}") lacks ${missing.join(", ")}`);
    } catch (error) {
      // auth/operator imports @kubernetes/client-node, an optional peer: a plugin
      // that never installed it cannot load that entry point, by design.
      const peer = missingOptionalPeer(manifest, error);
      if (peer) skipped.push(`${spec} (optional peer ${peer} not installed)`);
      else problems.push(`require("${spec}") failed: ${error.message.split("\n")[0]}`);
    }
  }
  return { name: `${manifest.name}@${manifest.version}`, problems, skipped };
}

function missingOptionalPeer(manifest, error) {
  if (error.code !== "ERR_MODULE_NOT_FOUND") return undefined;
  return Object.keys(manifest.peerDependenciesMeta ?? {}).find(
    (peer) =>
      manifest.peerDependenciesMeta[peer].optional &&
      error.message.includes(`'${peer}'`) &&
      !existsSync(join(process.cwd(), "node_modules", peer)),
  );
}

(async () => {
  const checked = [];
  let failed = false;
  for (const pkg of existsSync(scopeDir) ? readdirSync(scopeDir).sort() : []) {
    const { name, problems, skipped } = await inspect(pkg);
    checked.push(pkg);
    const note = skipped.length > 0 ? `; not loadable here: ${skipped.join(", ")}` : "";
    if (problems.length === 0)
      console.log(`  ok      ${name}: manifest, files, require() and import()${note}`);
    else {
      failed = true;
      for (const problem of problems) console.log(`  FAILED  ${name}: ${problem}`);
    }
  }
  console.log(checked.join(" "));
  process.exitCode = failed ? 1 : 0;
})();
