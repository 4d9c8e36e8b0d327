import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { startGoodPlugin } from "./good-plugin.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

const sa = (name: string) => `system:serviceaccount:plugins:${name}`;
const STREAMS = 100;

// Issue 10, item 8: with an authenticator but no name policy, a second identity joined
// another's name and served half of its calls. A name policy is now required; this is
// the policy the operator child uses (a ServiceAccount may register only its own name).
describe("hostile: another identity registering a plugin's name", () => {
  let operator: OperatorProcess;
  let good: Awaited<ReturnType<typeof startGoodPlugin>>;

  beforeAll(async () => {
    operator = await startOperatorProcess({
      auth: { mode: "proxy-headers" },
      namePolicy: "service-account-name",
      // Many streams on one connection: the stream caps (tested on their own) are raised so that
      // this attack meets the check it is about.
      caps: {
        maxStreamsPerConnection: 1_000,
        maxUnregisteredStreamsPerConnection: 1_000,
        maxUnregisteredStreams: 10_000,
      },
    });
    good = await startGoodPlugin(operator, { name: "good", headers: { "x-remote-user": sa("good") } });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("is refused with PERMISSION_DENIED and never receives the plugin's calls", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const streams = Array.from({ length: STREAMS }, () => {
        const stream = openRawPluginStream(session, { "x-remote-user": sa("mallory") });
        stream.send(registerMessage("good"));
        return stream;
      });
      expectOffenderStatus(
        await Promise.all(streams.map((stream) => stream.outcome)),
        status.PERMISSION_DENIED,
        /the policy refused plugin name "good"/,
      );
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
    expect(await operator.counters()).toMatchObject({
      registered: 1,
      sessions: 1,
      refused: { PERMISSION_DENIED: STREAMS },
    });
  }, 60_000);
});
