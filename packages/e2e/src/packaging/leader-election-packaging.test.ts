import { describe, expect, it } from "vitest";
import { productionClosure } from "./dependency-closure.js";
import { resolveWorkspaceEntry, walkImports } from "./import-graph.js";
import { packageDir, readManifest, scope } from "./workspace.js";

const kubernetesClient = "@kubernetes/client-node";

describe("server keeps @kubernetes/client-node to its ./leader-election subpath", () => {
  it("declares it an optional peer, never a dependency", () => {
    const manifest = readManifest(packageDir("server"));
    expect(manifest.dependencies?.[kubernetesClient]).toBeUndefined();
    expect(manifest.peerDependencies?.[kubernetesClient]).toBe("^1.4.0");
    expect(manifest.peerDependenciesMeta?.[kubernetesClient]?.optional).toBe(true);
    expect(productionClosure(packageDir("server"))).not.toContain(kubernetesClient);
  });

  it("server's main entry never imports it, transitively", () => {
    const graph = walkImports([resolveWorkspaceEntry(`${scope}/server`)]);
    expect(graph.files.size).toBeGreaterThan(5);
    expect(graph.external.get(kubernetesClient)).toBeUndefined();
  });

  it("the ./leader-election entry does, so the check above can fail", () => {
    const graph = walkImports([resolveWorkspaceEntry(`${scope}/server/leader-election`)]);
    expect(graph.external.get(kubernetesClient)).toMatch(/leader-election\//);
  });
});
