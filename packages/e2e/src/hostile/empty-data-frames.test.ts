import { status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectRssWithinBound } from "./assertions.js";
import { type CoreOperatorProcess, startCoreOperator } from "./core-operator.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { offenderStream, paddedBatch, trackStreams } from "./offender-stream.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

// Per call: a 2-byte reply, then up to 400k empty messages (2.4 MB on the wire;
// before the fix, about 100 MiB of queued messages in the operator per call).
const EMPTY_PER_BATCH = 5_000;
const BATCHES_PER_CALL = 80;
const CALLS = 4;

function empties(streamId: number): Frame[] {
  return Array.from({ length: EMPTY_PER_BATCH }, () => ({
    streamId,
    kind: { $case: "data" as const, value: { data: Buffer.alloc(0), more: false } },
  }));
}

/** A 2-byte HelloReply (`message: ""`). */
function reply(streamId: number): Frame {
  return { streamId, kind: { $case: "data", value: { data: Buffer.from([0x0a, 0]), more: false } } };
}

function okStatus(streamId: number): Frame {
  return {
    streamId,
    kind: { $case: "status", value: { code: 0, message: "", details: Buffer.alloc(0), trailers: [] } },
  };
}

describe("hostile: a reply followed by a flood of empty data frames", () => {
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

  it("ends each such call with RESOURCE_EXHAUSTED and keeps the operator's memory bounded", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const raw = openRawPluginStream(session);
      const offender = offenderStream(raw);
      const streams = trackStreams(offender);
      let answered = 0;
      let allCancelled: () => void;
      const done = new Promise<void>((resolve) => {
        allCancelled = resolve;
      });
      // One call at a time, in order: the flood of one call, then the next.
      let writes = Promise.resolve();
      streams.onOpen((id) => {
        const attack = answered++ < CALLS;
        writes = writes.then(async () => {
          await offender.write(paddedBatch([reply(id)], 0));
          if (!attack) {
            // Past the attack, a plain answer: the call loop ends without waiting for timeouts.
            await offender.write(paddedBatch([okStatus(id)], 0));
            return;
          }
          for (let i = 0; i < BATCHES_PER_CALL && !streams.cancelled.has(id); i++) {
            await offender.write(paddedBatch(empties(id), 0));
          }
          if (streams.cancelled.size >= CALLS) allCancelled();
        });
      });
      await offender.write(registerMessage("offender"));
      expect(await operator.waitRegistered("offender")).toBe(true);
      await operator.startCallsTo("offender", { timeoutMs: 10_000 });
      await done;
      const offenderReport = await operator.stopCallsTo("offender");
      expect([...streams.cancelled.values()].map((code) => status[code])).toEqual(
        Array(CALLS).fill("RESOURCE_EXHAUSTED"),
      );
      expect(offenderReport.failed).toBe(CALLS);
      expect(offenderReport.errors[0]).toMatch(
        /^RESOURCE_EXHAUSTED: the peer sent \d+ messages the application has not read/,
      );
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    const growth = await expectRssWithinBound(operator, baseline);
    console.log(`empty data frames: operator RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  }, 30_000);
});
