import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthenticationV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

let api: FakeKubeApi;

beforeEach(async () => {
  api = await startFakeKubeApi({ maxBodyBytes: 4096 });
});

afterEach(async () => {
  await api.close();
});

interface RawResponse {
  status: number;
  body: Record<string, unknown>;
}

function raw(options: {
  method?: string;
  path: string;
  body?: string | Buffer;
  token?: string | null;
  contentType?: string;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "content-type": options.contentType ?? "application/json" };
    const token = options.token === undefined ? api.adminToken : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const req = request(
      new URL(options.path, api.url),
      { method: options.method ?? "POST", ca: api.caPem, agent: false, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const tokenReviews = "/apis/authentication.k8s.io/v1/tokenreviews";

describe("fake Kubernetes API: HTTP behaviour", () => {
  it("answers 401 with a Status object to a caller without a bearer token", async () => {
    const res = await raw({ path: tokenReviews, body: "{}", token: null });
    expect(res).toEqual({
      status: 401,
      body: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      },
    });
  });

  it("answers 400 BadRequest to a body that is not JSON", async () => {
    const res = await raw({ path: tokenReviews, body: "{not json" });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ kind: "Status", reason: "BadRequest", code: 400 });
  });

  it("answers 400 to JSON that is not an object and to a mismatched kind", async () => {
    expect((await raw({ path: tokenReviews, body: "[1,2]" })).status).toBe(400);
    const wrongKind = await raw({
      path: tokenReviews,
      body: JSON.stringify({ kind: "Pod", spec: { token: "x" } }),
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.message).toMatch(/kind/);
    const wrongType = await raw({ path: tokenReviews, body: JSON.stringify({ spec: { token: 42 } }) });
    expect(wrongType.status).toBe(400);
  });

  it("answers 413 to a body over the limit and keeps serving", async () => {
    const res = await raw({ path: tokenReviews, body: Buffer.alloc(10_000, 0x20) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ reason: "RequestEntityTooLarge" });
    expect(
      (await raw({ path: tokenReviews, body: JSON.stringify({ spec: { token: api.adminToken } }) })).status,
    ).toBe(201);
  });

  it("answers 415 to a body that is not declared as JSON", async () => {
    const res = await raw({ path: tokenReviews, body: "token", contentType: "text/plain" });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ reason: "UnsupportedMediaType" });
  });

  it("answers 404 to an unknown path and 405 to a wrong method", async () => {
    expect((await raw({ method: "GET", path: "/api/v1/pods" })).body).toMatchObject({
      code: 404,
      reason: "NotFound",
    });
    expect((await raw({ method: "GET", path: tokenReviews })).status).toBe(405);
  });

  it("answers every request with an injected failure until it is cleared", async () => {
    api.setFailure(503);
    const res = await raw({ path: tokenReviews, body: "{}" });
    expect(res.body).toMatchObject({ code: 503, reason: "ServiceUnavailable" });
    api.setFailure(undefined);
    expect((await raw({ path: tokenReviews, body: JSON.stringify({ spec: { token: "x" } }) })).status).toBe(
      201,
    );
  });

  it("writes a kubeconfig that client-node loads and uses, with mode 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fake-kube-"));
    try {
      const path = join(dir, "kubeconfig");
      await api.writeKubeconfig(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect(await readFile(path, "utf8")).toContain(api.url);
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      const result = await kc
        .makeApiClient(AuthenticationV1Api)
        .createTokenReview({ body: { spec: { token: api.adminToken } } });
      expect(result.status?.user?.username).toBe("kubernetes-admin");
      expect(result.status?.user?.groups).toContain("system:masters");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("releases every connection on close, keep-alive ones included", async () => {
    const client = api.kubeConfig().makeApiClient(AuthenticationV1Api);
    await client.createTokenReview({ body: { spec: { token: "x" } } });
    await api.close();
    expect(api.connections()).toBe(0);
    await expect(client.createTokenReview({ body: { spec: { token: "x" } } })).rejects.toThrow();
  });

  it("closes through Symbol.asyncDispose", async () => {
    const other = await startFakeKubeApi();
    await other
      .kubeConfig()
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: "x" } } });
    await other[Symbol.asyncDispose]();
    expect(other.connections()).toBe(0);
    await expect(
      other
        .kubeConfig()
        .makeApiClient(AuthenticationV1Api)
        .createTokenReview({ body: { spec: { token: "x" } } }),
    ).rejects.toThrow();
  });
});
