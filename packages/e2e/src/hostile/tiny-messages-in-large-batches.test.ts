import type { Frame } from "@operator-plugin-framework/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectRssWithinBound } from "./assertions.js";
import { type CoreOperatorProcess, startCoreOperator } from "./core-operator.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { offenderStream, paddedBatch, trackStreams } from "./offender-stream.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

// 30 calls held open, each with an unread 2-byte message decoded from its own
// batch of almost 4 MiB (the default max receive message size): before the fix
// each kept its batch alive, +120 MiB for 60 bytes of window.
const CALLS = 30;
const BATCH_BYTES = 4 * 1024 * 1024 - 4 * 1024;

/** A 2-byte HelloReply (`message: ""`). */
function reply(streamId: number): Frame {
  return { streamId, kind: { $case: "data", value: { data: Buffer.from([0x0a, 0]), more: false } } };
}

describe("hostile: tiny replies, each in its own 4 MiB batch, held unfinished", () => {
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

  it("keeps only the replies' bytes, not their batches", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const raw = openRawPluginStream(session);
      const offender = offenderStream(raw);
      const streams = trackStreams(offender);
      const held: number[] = [];
      let allHeld: () => void;
      const heldAll = new Promise<void>((resolve) => {
        allHeld = resolve;
      });
      let writes = Promise.resolve();
      streams.onOpen((id) => {
        writes = writes.then(async () => {
          if (held.length === CALLS) return;
          // A reply, then a second the unary call never reads, and no status: the
          // call stays open and its unread message waits in the operator.
          await offender.write(paddedBatch([reply(id), reply(id)], BATCH_BYTES));
          held.push(id);
          if (held.length === CALLS) allHeld();
        });
      });
      await offender.write(registerMessage("offender"));
      expect(await operator.waitRegistered("offender")).toBe(true);
      await operator.startCallsTo("offender", { timeoutMs: 20_000, concurrency: CALLS });
      await heldAll;
      await writes;
      // Measured while all 30 replies are still held by their calls.
      const growth = await expectRssWithinBound(operator, baseline);
      console.log(
        `tiny messages in large batches: operator RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`,
      );
      // The offender then leaves: its held calls fail with UNAVAILABLE, as on any lost plugin.
      const stopped = operator.stopCallsTo("offender");
      session.destroy();
      const offenderReport = await stopped;
      expect(offenderReport.ok).toBe(0);
      expect(offenderReport.failed).toBeGreaterThanOrEqual(CALLS);
      for (const error of offenderReport.errors) expect(error).toMatch(/^UNAVAILABLE: /);
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
  }, 30_000);
});
