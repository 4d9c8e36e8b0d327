import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const src = resolve(import.meta.dirname, "..");
const repoRoot = resolve(src, "../../..");
let dir: string;

// A resolve hook that fails the import of @kubernetes/client-node, so loading
// an entry point in a fresh process proves at run time what it pulls in.
const hook = `
export async function resolve(specifier, context, next) {
  if (specifier === "@kubernetes/client-node" || specifier.startsWith("@kubernetes/client-node/")) {
    throw new Error("FORBIDDEN_IMPORT @kubernetes/client-node from " + context.parentURL);
  }
  return next(specifier, context);
}
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "opf-import-hook-"));
  await writeFile(join(dir, "hook.mjs"), hook);
  await writeFile(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)});\n`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function load(entry: string): Promise<{ code: number; output: string }> {
  const script = `await import(${JSON.stringify(pathToFileURL(join(src, entry)).href)}); console.log("LOADED");`;
  return new Promise((done) => {
    execFile(
      process.execPath,
      [
        "--conditions=opf-source",
        "--import",
        "tsx",
        "--import",
        join(dir, "register.mjs"),
        "--input-type=module",
        "-e",
        script,
      ],
      { cwd: repoRoot, timeout: 30_000 },
      (error, stdout, stderr) =>
        done({ code: error ? ((error.code as number | undefined) ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("loading the plugin side in a fresh process", () => {
  it("loads ./token and the root entry point with @kubernetes/client-node forbidden", async () => {
    const [token, root] = await Promise.all([load("token/index.ts"), load("index.ts")]);
    expect(token.output).toContain("LOADED");
    expect(token.code).toBe(0);
    expect(root.output).toContain("LOADED");
  });

  it("fails to load ./operator under the same hook, which proves the hook works", async () => {
    const operator = await load("operator/index.ts");
    expect(operator.code).not.toBe(0);
    expect(operator.output).toContain("FORBIDDEN_IMPORT @kubernetes/client-node");
  });
});
