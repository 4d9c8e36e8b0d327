import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// Relative on purpose: the testkit depends on auth (see token-review-authenticator.test.ts).
import { type FakeKubeApi, startFakeKubeApi } from "../../../testkit/src/kube/index.js";
import type { PluginIdentity } from "../types.js";
import { allowAllNames, nameAuthorizer, subjectAccessReviewNameAuthorizer } from "./index.js";

const aws: PluginIdentity = {
  user: "system:serviceaccount:plugins:aws",
  groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
  serviceAccount: { namespace: "plugins", name: "aws" },
};
const gcp: PluginIdentity = {
  ...aws,
  user: "system:serviceaccount:plugins:gcp",
  serviceAccount: { namespace: "plugins", name: "gcp" },
};

let api: FakeKubeApi;
let clock: number;

beforeEach(async () => {
  clock = 0;
  api = await startFakeKubeApi();
});

afterEach(async () => {
  await api.close();
});

function grant(user: string, name: string, namespace?: string) {
  api.rules.allow({
    user,
    resourceAttributes: {
      group: "pluginframework.io",
      resource: "plugins",
      verb: "register",
      name,
      ...(namespace ? { namespace } : {}),
    },
  });
}

describe("subjectAccessReviewNameAuthorizer", () => {
  it("allows only the names granted through resourceNames", async () => {
    grant(aws.user, "aws");
    const authorize = subjectAccessReviewNameAuthorizer({ kubeConfig: api.kubeConfig(), now: () => clock });
    await expect(authorize(aws, "aws")).resolves.toEqual({ allowed: true });
    const refused = await authorize(gcp, "aws");
    expect(refused.allowed).toBe(false);
    expect(refused.reason).toContain(`user "${gcp.user}" may not register plugins.pluginframework.io "aws"`);
    expect(refused.reason).toContain("resourceNames: [aws]");
    await expect(authorize(aws, "gcp")).resolves.toMatchObject({ allowed: false });
  });

  it("checks the configured verb, group, resource and namespace", async () => {
    api.rules.allow({
      group: "system:serviceaccounts:plugins",
      resourceAttributes: {
        group: "example.com",
        resource: "providers",
        verb: "claim",
        name: "aws",
        namespace: "operator",
      },
    });
    const options = {
      kubeConfig: api.kubeConfig(),
      verb: "claim",
      group: "example.com",
      resource: "providers",
    };
    await expect(
      subjectAccessReviewNameAuthorizer({ ...options, namespace: "operator" })(aws, "aws"),
    ).resolves.toEqual({
      allowed: true,
    });
    const elsewhere = await subjectAccessReviewNameAuthorizer({ ...options, namespace: "other" })(aws, "aws");
    expect(elsewhere).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('in namespace "other"'),
    });
    await expect(subjectAccessReviewNameAuthorizer(options)(aws, "aws")).resolves.toMatchObject({
      allowed: false,
    });
  });

  it("caches an allow for 5 minutes and a denial for 30 seconds", async () => {
    grant(aws.user, "aws");
    const authorize = subjectAccessReviewNameAuthorizer({ kubeConfig: api.kubeConfig(), now: () => clock });
    await authorize(aws, "aws");
    await authorize(gcp, "gcp");
    clock += 29_999;
    await authorize(aws, "aws");
    await authorize(gcp, "gcp");
    expect(api.requests.subjectaccessreviews).toBe(2);
    clock += 1;
    await authorize(gcp, "gcp");
    expect(api.requests.subjectaccessreviews).toBe(3);
    clock += 270_000;
    await authorize(aws, "aws");
    expect(api.requests.subjectaccessreviews).toBe(4);
  });

  it("rejects with UNAVAILABLE when the API server fails", async () => {
    api.setFailure(500);
    const authorize = subjectAccessReviewNameAuthorizer({ kubeConfig: api.kubeConfig() });
    await expect(authorize(aws, "aws")).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      message: expect.stringContaining("SubjectAccessReview (HTTP 500"),
    });
  });
});

describe("allowAllNames and nameAuthorizer", () => {
  it("allowAllNames allows every name", async () => {
    await expect(allowAllNames()(aws, "anything")).resolves.toEqual({ allowed: true });
  });

  it("adapts a boolean policy, sync or async, with a reason on refusal", async () => {
    const sameAsServiceAccount = nameAuthorizer((identity, name) => identity.serviceAccount?.name === name);
    await expect(sameAsServiceAccount(aws, "aws")).resolves.toEqual({ allowed: true });
    await expect(sameAsServiceAccount(gcp, "aws")).resolves.toEqual({
      allowed: false,
      reason: 'the policy refused plugin name "aws"',
    });
    const withReason = nameAuthorizer(async () => ({ allowed: false, reason: "maintenance" }));
    await expect(withReason(aws, "aws")).resolves.toEqual({ allowed: false, reason: "maintenance" });
  });
});
