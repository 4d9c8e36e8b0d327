import { AuthenticationV1Api } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

let api: FakeKubeApi;
let clock: number;

beforeEach(async () => {
  clock = Date.parse("2030-01-01T00:00:00Z");
  api = await startFakeKubeApi({ now: () => clock });
});

afterEach(async () => {
  await api.close();
});

function review(token: string, audiences?: string[], callerToken?: string) {
  const client = api
    .kubeConfig(callerToken === undefined ? {} : { token: callerToken })
    .makeApiClient(AuthenticationV1Api);
  return client.createTokenReview({
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token, ...(audiences ? { audiences } : {}) },
    },
  });
}

describe("fake Kubernetes API: TokenReview", () => {
  it("authenticates a configured token with its user, uid, groups and extra", async () => {
    api.tokens.set("sa-token", {
      user: "system:serviceaccount:plugins:aws",
      uid: "uid-1",
      groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
      extra: { "authentication.kubernetes.io/pod-name": ["aws-0"] },
    });
    const result = await review("sa-token");
    expect(result.kind).toBe("TokenReview");
    expect(result.apiVersion).toBe("authentication.k8s.io/v1");
    expect(result.status).toEqual({
      authenticated: true,
      user: {
        username: "system:serviceaccount:plugins:aws",
        uid: "uid-1",
        groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
        extra: { "authentication.kubernetes.io/pod-name": ["aws-0"] },
      },
      audiences: ["https://kubernetes.default.svc"],
    });
    expect(api.requests.tokenreviews).toBe(1);
  });

  it("answers the intersection of requested and token audiences", async () => {
    api.tokens.set("projected", { user: "u", audiences: ["operator", "other"] });
    const result = await review("projected", ["operator", "third"]);
    expect(result.status?.authenticated).toBe(true);
    expect(result.status?.audiences).toEqual(["operator"]);
  });

  it("refuses a token whose audiences do not intersect the requested ones", async () => {
    api.tokens.set("projected", { user: "u", audiences: ["other"] });
    const result = await review("projected", ["operator"]);
    expect(result.status?.authenticated).toBeFalsy();
    expect(result.status?.error).toMatch(/invalid for the target audiences \["operator"\]/);
    expect(result.status?.user?.username).toBeUndefined();
  });

  it("treats a token without audiences as bound to the API server's audience only", async () => {
    api.tokens.set("legacy", { user: "u" });
    expect((await review("legacy", ["operator"])).status?.authenticated).toBeFalsy();
    expect((await review("legacy", ["https://kubernetes.default.svc"])).status?.authenticated).toBe(true);
  });

  it("refuses a token once it has expired", async () => {
    api.tokens.set("short", { user: "u", expiresAt: new Date(clock + 60_000) });
    expect((await review("short")).status?.authenticated).toBe(true);
    clock += 60_000;
    const result = await review("short");
    expect(result.status?.authenticated).toBeFalsy();
    expect(result.status?.error).toMatch(/expired/);
  });

  it("refuses unknown and revoked tokens without echoing them in the error", async () => {
    api.tokens.set("revoke-me", { user: "u" });
    api.tokens.revoke("revoke-me");
    const result = await review("revoke-me");
    expect(result.status?.authenticated).toBeFalsy();
    expect(result.status?.error).toMatch(/invalid bearer token/);
    expect(result.status?.error).not.toContain("revoke-me");
  });

  it("answers 400 for an empty token", async () => {
    await expect(review("")).rejects.toMatchObject({ code: 400 });
  });

  it("answers 401 when the caller's own token is unknown", async () => {
    await expect(review("anything", undefined, "not-a-token")).rejects.toMatchObject({ code: 401 });
    expect(api.requests.tokenreviews).toBe(1);
  });

  it("answers 403 to an authenticated caller without permission, 201 once a rule allows it", async () => {
    api.tokens.set("proxy-token", { user: "system:serviceaccount:op:proxy" });
    api.tokens.set("plugin", { user: "p" });
    await expect(review("plugin", undefined, "proxy-token")).rejects.toMatchObject({ code: 403 });
    api.rules.allow({
      user: "system:serviceaccount:op:proxy",
      resourceAttributes: { group: "authentication.k8s.io", resource: "tokenreviews", verb: "create" },
    });
    expect((await review("plugin", undefined, "proxy-token")).status?.authenticated).toBe(true);
  });

  it("refuses a caller token issued for another audience, as the API server does", async () => {
    api.tokens.set("for-operator", { user: "u", audiences: ["operator"] });
    await expect(review("x", undefined, "for-operator")).rejects.toMatchObject({ code: 401 });
  });

  it("counts requests and resets the counters", async () => {
    await review("a");
    await review("b");
    expect(api.requests.tokenreviews).toBe(2);
    api.requests.reset();
    expect(api.requests.tokenreviews).toBe(0);
  });
});
