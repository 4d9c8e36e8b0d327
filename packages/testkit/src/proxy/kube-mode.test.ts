import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "../kube/index.js";
import { createTestCertificates, type TestCertificates } from "../tls/index.js";
import {
  bearer,
  type GreeterUpstream,
  greeterClient,
  sayHello,
  startGreeterUpstream,
} from "./greeter-fixture.test-support.js";
import { type FakeKubeRbacProxyOptions, startFakeKubeRbacProxy } from "./index.js";

const AUDIENCE = "operator-plugin-framework";
const PROXY_SA = "system:serviceaccount:operators:operator";
const AWS_SA = "system:serviceaccount:plugins:aws";
const SAY_HELLO = "/example.v1.GreeterService/SayHello";

let certs: TestCertificates;
let api: FakeKubeApi;
let greeter: GreeterUpstream;
const cleanups: Array<() => unknown> = [];

// One API for the file (it generates its own CA); rules, counters and tokens are reset per test.
beforeAll(async () => {
  certs = await createTestCertificates({ hosts: ["localhost"] });
  api = await startFakeKubeApi();
});

afterAll(async () => {
  await api.close();
});

/** The proxy's own ServiceAccount gets the RBAC the deploy manifests grant it. */
function grantProxy(): void {
  for (const [group, resource] of [
    ["authentication.k8s.io", "tokenreviews"],
    ["authorization.k8s.io", "subjectaccessreviews"],
  ] as const) {
    api.rules.allow({ user: PROXY_SA, resourceAttributes: { group, resource, verb: "create" } });
  }
}

beforeEach(async () => {
  greeter = await startGreeterUpstream();
  cleanups.push(() => greeter.close());
  api.rules.clear();
  api.requests.reset();
  api.setFailure(undefined);
  api.tokens.set("proxy-token", { user: PROXY_SA });
  grantProxy();
  api.tokens.set("aws-token", {
    user: AWS_SA,
    groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
    audiences: [AUDIENCE],
  });
  api.rules.allow({ user: AWS_SA, nonResourceAttributes: { path: SAY_HELLO, verb: "create" } });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The proxy doing real TokenReviews and SubjectAccessReviews against the fake API. */
async function kubeProxy(options: Partial<FakeKubeRbacProxyOptions> = {}) {
  const proxy = await startFakeKubeRbacProxy({
    upstream: greeter.upstream,
    tls: certs.server,
    kube: { url: api.url, caPem: api.caPem, token: "proxy-token" },
    audiences: [AUDIENCE],
    authHeaderFields: true,
    ...options,
  });
  cleanups.push(() => proxy.close());
  const client = greeterClient(proxy.port, certs.ca.cert);
  cleanups.push(() => client.close());
  return { proxy, client };
}

describe("fake kube-rbac-proxy against the fake Kubernetes API", () => {
  it("admits a ServiceAccount token with the audience and the path permission, forwarding its identity", async () => {
    const { client } = await kubeProxy();
    const { response, error } = await sayHello(client, bearer("aws-token"));
    expect(error).toBeUndefined();
    expect(response?.message).toBe("hello proxy");
    expect(greeter.received[0]?.get("x-remote-user")).toEqual([AWS_SA]);
    expect(greeter.received[0]?.get("x-remote-groups")).toEqual([
      "system:serviceaccounts|system:serviceaccounts:plugins|system:authenticated",
    ]);
    expect(api.requests.tokenreviews).toBe(1);
    expect(api.requests.subjectaccessreviews).toBe(1);
  });

  it("answers UNAUTHENTICATED for unknown, wrong-audience, expired and revoked tokens", async () => {
    api.tokens.set("other-audience", { user: AWS_SA, audiences: ["vault"] });
    api.tokens.set("expired", {
      user: AWS_SA,
      audiences: [AUDIENCE],
      expiresAt: new Date(Date.now() - 1000),
    });
    const { client, proxy } = await kubeProxy();
    for (const token of ["unknown", "other-audience", "expired"]) {
      const { error } = await sayHello(client, bearer(token));
      expect(error?.code, token).toBe(grpc.status.UNAUTHENTICATED);
    }

    expect((await sayHello(client, bearer("aws-token"))).error).toBeUndefined();
    api.tokens.revoke("aws-token");
    expect((await sayHello(client, bearer("aws-token"))).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(proxy.stats.unauthenticated).toBe(4);
    expect(greeter.received).toHaveLength(1);
  });

  it("answers PERMISSION_DENIED for a valid token without the path permission", async () => {
    api.tokens.set("gcp-token", { user: "system:serviceaccount:plugins:gcp", audiences: [AUDIENCE] });
    const { client, proxy } = await kubeProxy();
    const { error } = await sayHello(client, bearer("gcp-token"));
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(proxy.stats.forbidden).toBe(1);
    expect(greeter.received).toEqual([]);
  });

  it("accepts any audience the API accepts when no audiences are configured", async () => {
    api.tokens.set("legacy-token", { user: AWS_SA });
    const { client } = await kubeProxy({ audiences: [] });
    expect((await sayHello(client, bearer("legacy-token"))).error).toBeUndefined();
    // A token bound to another audience is not one the API server accepts for itself.
    expect((await sayHello(client, bearer("aws-token"))).error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("authorizes with resource attributes when configured", async () => {
    api.rules.allow({
      user: AWS_SA,
      resourceAttributes: { group: "pluginframework.io", resource: "plugins", name: "aws", verb: "create" },
    });
    const { client } = await kubeProxy({
      resourceAttributes: { group: "pluginframework.io", resource: "plugins", name: "aws" },
    });
    expect((await sayHello(client, bearer("aws-token"))).error).toBeUndefined();
    api.rules.clear();
    grantProxy();
    expect((await sayHello(client, bearer("aws-token"))).error?.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("answers UNAUTHENTICATED while the API fails, as the real proxy does on a TokenReview error", async () => {
    const { client } = await kubeProxy();
    api.setFailure(503);
    expect((await sayHello(client, bearer("aws-token"))).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    api.setFailure(undefined);
    expect((await sayHello(client, bearer("aws-token"))).error).toBeUndefined();
  });

  it("with cache on, reuses reviews for the real proxy's TTLs: 2 min authentication, 30 s deny, 5 min allow", async () => {
    let clock = 1_000_000;
    api.tokens.set("gcp-token", { user: "system:serviceaccount:plugins:gcp", audiences: [AUDIENCE] });
    const { client } = await kubeProxy({ cache: { now: () => clock } });

    expect((await sayHello(client, bearer("aws-token"))).error).toBeUndefined();
    expect((await sayHello(client, bearer("aws-token"))).error).toBeUndefined();
    expect([api.requests.tokenreviews, api.requests.subjectaccessreviews]).toEqual([1, 1]);
    api.tokens.revoke("aws-token");
    expect((await sayHello(client, bearer("aws-token"))).error).toBeUndefined();
    clock += 120_001;
    expect((await sayHello(client, bearer("aws-token"))).error?.code).toBe(grpc.status.UNAUTHENTICATED);

    expect((await sayHello(client, bearer("gcp-token"))).error?.code).toBe(grpc.status.PERMISSION_DENIED);
    api.rules.allow({
      user: "system:serviceaccount:plugins:gcp",
      nonResourceAttributes: { path: SAY_HELLO, verb: "create" },
    });
    expect((await sayHello(client, bearer("gcp-token"))).error?.code).toBe(grpc.status.PERMISSION_DENIED);
    clock += 30_001;
    expect((await sayHello(client, bearer("gcp-token"))).error).toBeUndefined();
  });
});
