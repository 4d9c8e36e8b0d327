import { AuthorizationV1Api, type V1SubjectAccessReviewSpec } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

let api: FakeKubeApi;

beforeEach(async () => {
  api = await startFakeKubeApi();
});

afterEach(async () => {
  await api.close();
});

const plugin = "system:serviceaccount:plugins:aws";
const streamPath = "/pluginframework.v1.PluginFrameworkService/PluginStream";

function review(spec: V1SubjectAccessReviewSpec) {
  return api
    .kubeConfig()
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({
      body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
    });
}

describe("fake Kubernetes API: SubjectAccessReview", () => {
  it("denies everything until a rule allows it", async () => {
    const spec = { user: plugin, nonResourceAttributes: { path: streamPath, verb: "create" } };
    const denied = await review(spec);
    expect(denied.kind).toBe("SubjectAccessReview");
    expect(denied.status?.allowed).toBe(false);
    expect(denied.status?.denied).toBeUndefined();

    api.rules.allow({ user: plugin, nonResourceAttributes: { path: streamPath, verb: "create" } });
    const allowed = await review(spec);
    expect(allowed.status?.allowed).toBe(true);
    expect(allowed.status?.reason).toMatch(/fake rule #0/);
    expect(api.requests.subjectaccessreviews).toBe(2);
  });

  it("matches non-resource paths with RBAC wildcards and verbs exactly", async () => {
    api.rules.allow({
      group: "system:serviceaccounts",
      nonResourceAttributes: { path: "/pluginframework.v1.*", verb: "create" },
    });
    const groups = ["system:serviceaccounts", "system:authenticated"];
    expect(
      (await review({ user: plugin, groups, nonResourceAttributes: { path: streamPath, verb: "create" } }))
        .status?.allowed,
    ).toBe(true);
    expect(
      (await review({ user: plugin, groups, nonResourceAttributes: { path: streamPath, verb: "get" } }))
        .status?.allowed,
    ).toBe(false);
    expect(
      (await review({ user: plugin, groups, nonResourceAttributes: { path: "/healthz", verb: "create" } }))
        .status?.allowed,
    ).toBe(false);
    expect(
      (await review({ user: plugin, nonResourceAttributes: { path: streamPath, verb: "create" } })).status
        ?.allowed,
    ).toBe(false);
  });

  it("matches resource attributes by name and namespace, like RBAC resourceNames", async () => {
    api.rules.allow({
      user: plugin,
      resourceAttributes: {
        group: "pluginframework.io",
        resource: "plugins",
        verb: "register",
        name: "aws",
        namespace: "operator",
      },
    });
    const attrs = {
      group: "pluginframework.io",
      resource: "plugins",
      verb: "register",
      namespace: "operator",
    };
    expect(
      (await review({ user: plugin, resourceAttributes: { ...attrs, name: "aws" } })).status?.allowed,
    ).toBe(true);
    expect(
      (await review({ user: plugin, resourceAttributes: { ...attrs, name: "gcp" } })).status?.allowed,
    ).toBe(false);
    expect(
      (await review({ user: plugin, resourceAttributes: { ...attrs, name: "aws", namespace: "other" } }))
        .status?.allowed,
    ).toBe(false);
    expect(
      (await review({ user: plugin, resourceAttributes: { ...attrs, name: "aws", verb: "delete" } })).status
        ?.allowed,
    ).toBe(false);
    expect(
      (await review({ user: "someone-else", resourceAttributes: { ...attrs, name: "aws" } })).status?.allowed,
    ).toBe(false);
  });

  it("treats a rule without name or namespace as applying to all of them", async () => {
    api.rules.allow({ user: "*", resourceAttributes: { group: "*", resource: "plugins", verb: "*" } });
    const result = await review({
      user: "anyone",
      resourceAttributes: { group: "x", resource: "plugins", verb: "register", name: "n" },
    });
    expect(result.status?.allowed).toBe(true);
    api.rules.clear();
    expect(
      (
        await review({
          user: "anyone",
          resourceAttributes: { group: "x", resource: "plugins", verb: "register" },
        })
      ).status?.allowed,
    ).toBe(false);
  });

  it("answers 422 when neither user nor group is given", async () => {
    await expect(review({ nonResourceAttributes: { path: "/", verb: "get" } })).rejects.toMatchObject({
      code: 422,
    });
  });

  it("answers 422 unless exactly one of resource and non-resource attributes is given", async () => {
    await expect(review({ user: "u" })).rejects.toMatchObject({ code: 422 });
    await expect(
      review({
        user: "u",
        nonResourceAttributes: { path: "/", verb: "get" },
        resourceAttributes: { resource: "pods" },
      }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it("refuses to construct a rule without a subject", () => {
    expect(() => api.rules.allow({ nonResourceAttributes: { path: "/", verb: "get" } } as never)).toThrow(
      /user.*group/,
    );
  });
});
