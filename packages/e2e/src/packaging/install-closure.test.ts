import { describe, expect, it } from "vitest";
import { productionClosure, productionDependencyNames } from "./dependency-closure.js";
import { packageDir, scope } from "./workspace.js";

const kubernetesClient = "@kubernetes/client-node";

describe("production install closure", () => {
  it("a plugin's install (client and everything it pulls in) excludes @kubernetes/client-node", () => {
    const closure = productionClosure(packageDir("client"));
    // The walk reaches the workspace packages and their third-party dependencies...
    expect(closure).toContain(`${scope}/auth`);
    expect(closure).toContain(`${scope}/proto`);
    expect(closure).toContain("@grpc/grpc-js");
    expect(closure).toContain("@bufbuild/protobuf");
    // ...and never the Kubernetes client, which is only for the operator side.
    expect([...closure].filter((name) => name.startsWith("@kubernetes/"))).toEqual([]);
  });

  it("a plugin's install excludes @opentelemetry/api, an optional peer the author adds to turn tracing on", () => {
    const closure = productionClosure(packageDir("client"));
    expect(closure).not.toContain("@opentelemetry/api");
    expect(closure).not.toContain("prom-client");
  });

  it("the testkit's install does include @kubernetes/client-node, so the check above can fail", () => {
    expect(productionClosure(packageDir("testkit"))).toContain(kubernetesClient);
  });

  it("auth keeps @kubernetes/client-node an optional peer, so plugins that depend on auth do not get it", () => {
    expect(
      productionDependencyNames({ name: "x", version: "0", peerDependencies: { a: "1", b: "1" } }),
    ).toEqual(["a", "b"]);
    expect(
      productionDependencyNames({
        name: "x",
        version: "0",
        peerDependencies: { [kubernetesClient]: "^2" },
        peerDependenciesMeta: { [kubernetesClient]: { optional: true } },
      }),
    ).toEqual([]);
    expect(productionClosure(packageDir("auth"))).not.toContain(kubernetesClient);
  });
});
