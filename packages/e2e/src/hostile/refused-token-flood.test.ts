import { status } from "@grpc/grpc-js";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { startGoodPlugin } from "./good-plugin.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream } from "./raw-h2-stream.js";

const AUDIENCE = "operator";
const CONNECTIONS = 10;
const STREAMS_PER_CONNECTION = 500;

describe("hostile: a flood of streams with a refused token that never register", () => {
  let kube: FakeKubeApi;
  let operator: OperatorProcess;
  let good: Awaited<ReturnType<typeof startGoodPlugin>>;

  beforeAll(async () => {
    kube = await startFakeKubeApi();
    kube.tokens.set("good-token", { user: "system:serviceaccount:plugins:good", audiences: [AUDIENCE] });
    operator = await startOperatorProcess({
      auth: {
        mode: "token-review",
        kubeconfig: kube.kubeconfigText(),
        audiences: [AUDIENCE],
        reviewTimeoutMs: 5_000,
      },
      registerTimeoutMs: 10_000,
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

  it("refuses each at once with UNAUTHENTICATED, not after the register timeout", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const sessions = Array.from({ length: CONNECTIONS }, () => connectRaw(operator.address));
    try {
      // One refused token: its TokenReview result is cached, so this measures the server, not the API.
      const streams = sessions.flatMap((session) =>
        Array.from({ length: STREAMS_PER_CONNECTION }, () =>
          openRawPluginStream(session, { authorization: "Bearer refused-token" }),
        ),
      );
      const outcomes = await Promise.all(streams.map((stream) => stream.outcome));
      expectOffenderStatus(outcomes, status.UNAUTHENTICATED, /the bearer token was refused/);
    } finally {
      for (const session of sessions) session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
  }, 30_000);
});
