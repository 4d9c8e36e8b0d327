import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { externalImports, installClosure } from "../import-graph.test-support.js";

const src = resolve(import.meta.dirname, "..");
const authDir = resolve(src, "..");

describe("the plugin side does not load @kubernetes/client-node", () => {
  it("never imports it from ./token or the root entry point, directly or through workspace packages", () => {
    for (const entry of ["token/index.ts", "index.ts"]) {
      const external = externalImports(join(src, entry));
      expect(
        [...external.keys()].filter((name) => name.startsWith("@kubernetes/")),
        entry,
      ).toEqual([]);
    }
  });

  it("does not pull it in through the install closure of what ./token imports", () => {
    for (const name of externalImports(join(src, "token/index.ts")).keys()) {
      expect([...installClosure(name, authDir)], name).not.toContain("@kubernetes/client-node");
    }
  });

  it("keeps it an optional peer dependency of the auth package", () => {
    const manifest = JSON.parse(readFileSync(join(authDir, "package.json"), "utf8"));
    expect(manifest.dependencies?.["@kubernetes/client-node"]).toBeUndefined();
    expect(manifest.peerDependenciesMeta?.["@kubernetes/client-node"]?.optional).toBe(true);
    expect([
      ...installClosure("@operator-plugin-framework/auth", join(authDir, "..", "client")),
    ]).not.toContain("@kubernetes/client-node");
  });

  it("finds it from ./operator, which proves the walk sees such imports", () => {
    const external = externalImports(join(src, "operator/index.ts"));
    expect(external.get("@kubernetes/client-node")).toMatch(/operator\//);
  });
});
