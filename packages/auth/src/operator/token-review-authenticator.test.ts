import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// Relative on purpose: the testkit depends on auth, so a package dependency
// back on it would make the workspace graph cyclic.
import { type FakeKubeApi, startFakeKubeApi } from "../../../testkit/src/kube/index.js";
import { type TokenReviewAuthenticatorOptions, tokenReviewAuthenticator } from "./index.js";

const streamPath = "/pluginframework.v1.PluginFrameworkService/PluginStream";
const pluginUser = "system:serviceaccount:plugins:aws";

let api: FakeKubeApi;
let clock: number;

beforeEach(async () => {
  clock = 1_000_000;
  api = await startFakeKubeApi();
  api.tokens.set("plugin-token", {
    user: pluginUser,
    uid: "uid-aws",
    groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
    audiences: ["operator"],
  });
  api.rules.allow({ user: pluginUser, nonResourceAttributes: { path: streamPath, verb: "create" } });
});

afterEach(async () => {
  await api.close();
});

function authenticator(options: Partial<TokenReviewAuthenticatorOptions> = {}) {
  return tokenReviewAuthenticator({
    kubeConfig: api.kubeConfig(),
    audiences: ["operator"],
    now: () => clock,
    ...options,
  });
}

function withToken(token: string | undefined, authorization = `Bearer ${token}`) {
  return { headers: token === undefined ? {} : { authorization }, peer: "127.0.0.1:5000", path: streamPath };
}

async function refusal(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, "expected a refusal").toBeInstanceOf(Error);
  return error as { code: number; message: string };
}

describe("tokenReviewAuthenticator", () => {
  it("admits a valid, authorized token with the identity from the TokenReview", async () => {
    const identity = await authenticator().authenticate(withToken("plugin-token"));
    expect(identity).toEqual({
      user: pluginUser,
      groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
      serviceAccount: { namespace: "plugins", name: "aws" },
    });
    expect(api.requests.tokenreviews).toBe(1);
    expect(api.requests.subjectaccessreviews).toBe(1);
  });

  it.each([
    ["no authorization header", withToken(undefined), /no bearer token/],
    ["a non-bearer scheme", withToken("x", "Basic YWxpY2U6cHc="), /malformed/],
    ["an empty bearer token", withToken("x", "Bearer "), /malformed/],
  ])("refuses %s with UNAUTHENTICATED without asking the API", async (_name, context, message) => {
    const error = await refusal(authenticator().authenticate(context));
    expect(error.code).toBe(status.UNAUTHENTICATED);
    expect(error.message).toMatch(message);
    expect(api.requests.tokenreviews).toBe(0);
  });

  it("refuses an unknown token with UNAUTHENTICATED and never puts it in the message", async () => {
    const error = await refusal(authenticator().authenticate(withToken("guessed-token-value")));
    expect(error.code).toBe(status.UNAUTHENTICATED);
    expect(error.message).not.toContain("guessed-token-value");
  });

  it("refuses a token issued for another audience with UNAUTHENTICATED", async () => {
    api.tokens.set("api-audience-token", { user: pluginUser });
    const error = await refusal(authenticator().authenticate(withToken("api-audience-token")));
    expect(error.code).toBe(status.UNAUTHENTICATED);
    expect(error.message).toMatch(/audiences/);
  });

  it("refuses an expired token with UNAUTHENTICATED", async () => {
    api.tokens.set("expired", {
      user: pluginUser,
      audiences: ["operator"],
      expiresAt: new Date(Date.now() - 1000),
    });
    const error = await refusal(authenticator().authenticate(withToken("expired")));
    expect(error.code).toBe(status.UNAUTHENTICATED);
    expect(error.message).toMatch(/expired/);
  });

  it("refuses a valid token without the stream permission with PERMISSION_DENIED", async () => {
    api.rules.clear();
    const error = await refusal(authenticator().authenticate(withToken("plugin-token")));
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.message).toContain(
      `user "${pluginUser}" may not create on the non-resource URL ${streamPath}`,
    );
  });

  it("authorizes with configured resource attributes instead of the path", async () => {
    const auth = authenticator({
      authorize: {
        resourceAttributes: {
          group: "",
          resource: "services",
          subresource: "proxy",
          verb: "create",
          name: "operator",
          namespace: "op",
        },
      },
    });
    expect((await refusal(auth.authenticate(withToken("plugin-token")))).code).toBe(status.PERMISSION_DENIED);
    api.rules.allow({
      group: "system:serviceaccounts",
      resourceAttributes: {
        group: "",
        resource: "services",
        subresource: "proxy",
        verb: "create",
        namespace: "op",
      },
    });
    // The denial is cached for 30 s: the new rule applies once it expires.
    clock += 30_000;
    await expect(auth.authenticate(withToken("plugin-token"))).resolves.toMatchObject({ user: pluginUser });
  });

  it("skips the SubjectAccessReview when authorize is false", async () => {
    api.rules.clear();
    await expect(
      authenticator({ authorize: false }).authenticate(withToken("plugin-token")),
    ).resolves.toMatchObject({
      user: pluginUser,
    });
    expect(api.requests.subjectaccessreviews).toBe(0);
  });

  it("caches authentication for 2 minutes and an allow for 5 minutes", async () => {
    const auth = authenticator();
    await auth.authenticate(withToken("plugin-token"));
    clock += 119_999;
    await auth.authenticate(withToken("plugin-token"));
    expect(api.requests.tokenreviews).toBe(1);
    expect(api.requests.subjectaccessreviews).toBe(1);

    clock += 1;
    await auth.authenticate(withToken("plugin-token"));
    expect(api.requests.tokenreviews).toBe(2);
    expect(api.requests.subjectaccessreviews).toBe(1);

    clock += 180_000;
    await auth.authenticate(withToken("plugin-token"));
    expect(api.requests.subjectaccessreviews).toBe(2);
  });

  it("keeps admitting a revoked token until its cache entry expires, then refuses it", async () => {
    const auth = authenticator();
    await auth.authenticate(withToken("plugin-token"));
    api.tokens.revoke("plugin-token");
    await expect(auth.authenticate(withToken("plugin-token"))).resolves.toMatchObject({ user: pluginUser });
    clock += 120_000;
    expect((await refusal(auth.authenticate(withToken("plugin-token")))).code).toBe(status.UNAUTHENTICATED);
  });

  it("caches a denial for 30 seconds, then asks again", async () => {
    api.rules.clear();
    const auth = authenticator();
    expect((await refusal(auth.authenticate(withToken("plugin-token")))).code).toBe(status.PERMISSION_DENIED);
    api.rules.allow({ user: pluginUser, nonResourceAttributes: { path: streamPath, verb: "create" } });
    clock += 29_999;
    expect((await refusal(auth.authenticate(withToken("plugin-token")))).code).toBe(status.PERMISSION_DENIED);
    expect(api.requests.subjectaccessreviews).toBe(1);
    clock += 1;
    await expect(auth.authenticate(withToken("plugin-token"))).resolves.toMatchObject({ user: pluginUser });
    expect(api.requests.subjectaccessreviews).toBe(2);
  });

  it("caches a failed authentication too, like kube-rbac-proxy", async () => {
    const auth = authenticator();
    await refusal(auth.authenticate(withToken("not-yet-known")));
    api.tokens.set("not-yet-known", { user: pluginUser, audiences: ["operator"] });
    expect((await refusal(auth.authenticate(withToken("not-yet-known")))).code).toBe(status.UNAUTHENTICATED);
    expect(api.requests.tokenreviews).toBe(1);
  });

  it("honours configured cache lifetimes", async () => {
    const auth = authenticator({ cacheTtlMs: 0, allowCacheTtlMs: 0 });
    await auth.authenticate(withToken("plugin-token"));
    await auth.authenticate(withToken("plugin-token"));
    expect(api.requests.tokenreviews).toBe(2);
    expect(api.requests.subjectaccessreviews).toBe(2);
  });

  it("makes one review for concurrent streams with the same token", async () => {
    const auth = authenticator();
    await Promise.all(Array.from({ length: 5 }, () => auth.authenticate(withToken("plugin-token"))));
    expect(api.requests.tokenreviews).toBe(1);
    expect(api.requests.subjectaccessreviews).toBe(1);
  });

  it("answers UNAVAILABLE when the API server fails, and does not cache the failure", async () => {
    const auth = authenticator();
    api.setFailure(503);
    const error = await refusal(auth.authenticate(withToken("plugin-token")));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.message).toMatch(/TokenReview \(HTTP 503/);
    api.setFailure(undefined);
    await expect(auth.authenticate(withToken("plugin-token"))).resolves.toMatchObject({ user: pluginUser });
  });

  it("answers UNAVAILABLE when the operator may not create TokenReviews", async () => {
    api.tokens.set("operator-token", { user: "system:serviceaccount:op:operator" });
    const auth = authenticator({ kubeConfig: api.kubeConfig({ token: "operator-token" }) });
    const error = await refusal(auth.authenticate(withToken("plugin-token")));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.message).toMatch(/HTTP 403.*system:auth-delegator/);
  });

  it("answers UNAVAILABLE when the API server is unreachable", async () => {
    const auth = authenticator();
    await api.close();
    const error = await refusal(auth.authenticate(withToken("plugin-token")));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.message).not.toContain("plugin-token");
  });
});
