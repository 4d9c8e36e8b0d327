import {
  AuthenticationV1Api,
  Observable,
  type RequestContext,
  type ResponseContext,
} from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FakeKubeApi, startFakeKubeApi } from "./index.js";

let api: FakeKubeApi;

beforeEach(async () => {
  api = await startFakeKubeApi();
  api.tokens.set("plugin-token", { user: "system:serviceaccount:plugins:aws" });
});

afterEach(async () => {
  await api.close();
});

/** Resolves once the API has received `count` TokenReviews (checked every event-loop turn). */
async function received(count: number): Promise<void> {
  while (api.requests.tokenreviews < count) await new Promise((resolve) => setImmediate(resolve));
}

function tokenReview(signal?: AbortSignal) {
  const client = api.kubeConfig().makeApiClient(AuthenticationV1Api);
  return client.createTokenReview(
    {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "plugin-token" } },
    },
    signal === undefined
      ? undefined
      : {
          middleware: [
            {
              pre: (context: RequestContext) => {
                context.setSignal(signal);
                return new Observable(Promise.resolve(context));
              },
              post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
            },
          ],
          middlewareMergeStrategy: "append" as const,
        },
  );
}

describe('setFailure("hang")', () => {
  it("holds a request open until the client gives up, then serves normally once cleared", async () => {
    api.setFailure("hang");
    const controller = new AbortController();
    const hung = tokenReview(controller.signal);
    let settled = false;
    void hung.then(
      () => (settled = true),
      () => (settled = true),
    );
    await received(1);
    // A second request that is answered proves the first is held, not queued behind it.
    api.setFailure(503);
    await expect(tokenReview()).rejects.toMatchObject({ code: 503 });
    expect(settled).toBe(false);
    expect(api.requests.tokenreviews).toBe(2);

    controller.abort();
    await expect(hung).rejects.toMatchObject({ name: "AbortError" });
    api.setFailure(undefined);
    const review = await tokenReview();
    expect(review.status?.authenticated).toBe(true);
  });

  it("releases held requests on close", async () => {
    api.setFailure("hang");
    const hung = tokenReview();
    hung.catch(() => {});
    await received(1);
    await api.close();
    await expect(hung).rejects.toBeDefined();
  });
});
