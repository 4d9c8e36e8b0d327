import { status } from "@grpc/grpc-js";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { startGoodPlugin } from "./good-plugin.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

const AUDIENCE = "operator";
// Long enough that a healthy review completes in time on a loaded machine.
const REVIEW_TIMEOUT_MS = 2_000;
const STREAMS = 100;
const sa = (name: string) => `system:serviceaccount:plugins:${name}`;

/** Opens `count` plugin streams, each with its own token, that register as `name`; resolves with their outcomes. */
async function attack(operator: OperatorProcess, count: number, token: (i: number) => string, name: string) {
  const session = connectRaw(operator.address);
  try {
    const streams = Array.from({ length: count }, (_, i) => {
      const stream = openRawPluginStream(session, { authorization: `Bearer ${token(i)}` });
      stream.send(registerMessage(name));
      return stream;
    });
    return await Promise.all(streams.map((stream) => stream.outcome));
  } finally {
    session.destroy();
  }
}

// Issue 10, item 6: a hung TokenReview locked its token out until restart, and the
// stream ended with "no register message within 10000 ms" although register had arrived.
describe("hostile: a review API that hangs, errors and recovers (in-process TokenReview)", () => {
  let kube: FakeKubeApi;
  let operator: OperatorProcess;
  let good: Awaited<ReturnType<typeof startGoodPlugin>>;

  beforeAll(async () => {
    kube = await startFakeKubeApi();
    for (const name of ["good", "late"])
      kube.tokens.set(`${name}-token`, { user: sa(name), audiences: [AUDIENCE] });
    operator = await startOperatorProcess({
      auth: {
        mode: "token-review",
        kubeconfig: kube.kubeconfigText(),
        audiences: [AUDIENCE],
        reviewTimeoutMs: REVIEW_TIMEOUT_MS,
      },
      // Many streams on one connection: the stream caps (tested on their own) are raised so that
      // this attack meets the check it is about.
      caps: {
        maxStreamsPerConnection: 1_000,
        maxUnregisteredStreamsPerConnection: 1_000,
        maxUnregisteredStreams: 10_000,
      },
    });
    good = await startGoodPlugin(operator, { name: "good", token: "good-token" });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
    await kube?.close();
  });

  it("fails hung reviews closed with UNAVAILABLE within the review timeout, then admits again once the API recovers", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    kube.setFailure("hang");
    const hung = await attack(operator, STREAMS, (i) => `unknown-token-${i}`, "mallory");
    // The review's own failure, at its timeout: not the register timeout's "no register message".
    expectOffenderStatus(
      hung,
      status.UNAVAILABLE,
      new RegExp(`^the TokenReview got no answer from the API server within ${REVIEW_TIMEOUT_MS} ms`),
    );

    // An API that answers with errors fails closed too, saying so.
    kube.setFailure(503);
    expectOffenderStatus(
      await attack(operator, 10, (i) => `other-token-${i}`, "mallory"),
      status.UNAVAILABLE,
      /TokenReview \(HTTP 503/,
    );

    // Recovered: a token whose review timed out is reviewed again, and a plugin registers.
    kube.setFailure(undefined);
    const session = connectRaw(operator.address);
    try {
      openRawPluginStream(session, { authorization: "Bearer late-token" }).send(registerMessage("late"));
      expect(await operator.waitRegistered("late")).toBe(true);
    } finally {
      session.destroy();
    }
    expectOffenderStatus(
      await attack(operator, 1, () => "unknown-token-0", "mallory"),
      status.UNAUTHENTICATED,
      /the bearer token was refused/,
    );

    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
    expect((await operator.counters()).refused.UNAVAILABLE).toBe(STREAMS + 10);
  }, 60_000);
});
