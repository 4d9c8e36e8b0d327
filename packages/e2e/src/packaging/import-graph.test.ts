import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveWorkspaceEntry, walkImports } from "./import-graph.js";
import { packageDir, scope } from "./workspace.js";

const kubernetesClient = "@kubernetes/client-node";

describe("source import graph of the plugin side", () => {
  it("client's entry point never imports @kubernetes/client-node, transitively", () => {
    const graph = walkImports([resolveWorkspaceEntry(`${scope}/client`)]);
    // The walk really crosses packages: it reaches the wire core, proto and grpc-js.
    expect([...graph.files].some((file) => file.startsWith(join(packageDir("wire"), "src")))).toBe(true);
    expect([...graph.files].some((file) => file.startsWith(join(packageDir("proto"), "src")))).toBe(true);
    expect(graph.external.has("@grpc/grpc-js")).toBe(true);
    expect(graph.external.get(kubernetesClient)).toBeUndefined();
  });

  it("auth's ./token entry never imports @kubernetes/client-node, transitively", () => {
    const graph = walkImports([resolveWorkspaceEntry(`${scope}/auth/token`)]);
    expect(graph.files.size).toBeGreaterThan(0);
    expect(graph.external.get(kubernetesClient)).toBeUndefined();
  });

  describe("the walker itself", () => {
    const dir = mkdtempSync(join(tmpdir(), "opf-import-graph-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("finds a package imported through relative files, type-only and dynamic imports", () => {
      mkdirSync(join(dir, "lib"));
      writeFileSync(join(dir, "index.ts"), 'export { a } from "./lib/index.js";\nimport "node:fs";\n');
      writeFileSync(join(dir, "lib", "index.ts"), 'export const a = 1;\nexport * from "./types.js";\n');
      writeFileSync(
        join(dir, "lib", "types.ts"),
        `import type { KubeConfig } from "${kubernetesClient}";\nexport type K = KubeConfig;\n` +
          'export const later = () => import("@grpc/grpc-js/build/src/metadata.js");\n',
      );
      const graph = walkImports([join(dir, "index.ts")]);
      expect(graph.files.size).toBe(3);
      expect(graph.external.get(kubernetesClient)).toBe(join(dir, "lib", "types.ts"));
      expect(graph.external.has("@grpc/grpc-js")).toBe(true);
      expect(graph.external.has("node:fs")).toBe(false);
    });

    it("refuses a relative import it cannot resolve instead of ignoring it", () => {
      writeFileSync(join(dir, "broken.ts"), 'import "./missing.js";\n');
      expect(() => walkImports([join(dir, "broken.ts")])).toThrow(/cannot resolve "\.\/missing\.js"/);
    });
  });
});
