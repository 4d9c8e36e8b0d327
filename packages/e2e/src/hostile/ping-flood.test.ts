import { status } from "@grpc/grpc-js";
import { encodePluginStreamMessage } from "@operator-plugin-framework/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { type CoreOperatorProcess, startCoreOperator } from "./core-operator.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { offenderStream } from "./offender-stream.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

// 100k pings (1.1 MB on the wire) from a stream that never reads: its HTTP/2
// window fills after about 4k answers, and the operator must stop at its bound
// of 1000 queued control messages rather than buffer the other 95k answers.
const PINGS = 100_000;
const PINGS_PER_WRITE = 1_000;

/** `count` pings, each as one length-prefixed message, in one buffer. */
function pings(count: number, from: number): Buffer {
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => {
      const body = encodePluginStreamMessage({
        payload: { $case: "ping", value: { nonce: from + i + 1, ack: false } },
      });
      const frame = Buffer.alloc(5 + body.length);
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      return frame;
    }),
  );
}

describe("hostile: a ping flood from a stream that never reads", () => {
  let operator: CoreOperatorProcess;
  let good: GoodPlugin;

  beforeAll(async () => {
    operator = await startCoreOperator();
    good = await startGoodPlugin(operator, { name: "good" });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("ends the session with RESOURCE_EXHAUSTED past the bound of queued answers", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const raw = openRawPluginStream(session, {}, { read: false });
      const offender = offenderStream(raw);
      await offender.write(registerMessage("offender"));
      expect(await operator.waitRegistered("offender")).toBe(true);
      for (let sent = 0; sent < PINGS && !raw.stream.destroyed; sent += PINGS_PER_WRITE) {
        await offender.write(pings(PINGS_PER_WRITE, sent));
      }
      // The answers to read before the status: the operator wrote at most its bound past the window.
      raw.stream.resume();
      expectOffenderStatus(
        [await raw.outcome],
        status.RESOURCE_EXHAUSTED,
        /plugin "offender" was cut off: the peer does not read its stream, and 1001 control messages/,
      );
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    const growth = await expectRssWithinBound(operator, baseline);
    console.log(`ping flood: operator RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  }, 30_000);
});
