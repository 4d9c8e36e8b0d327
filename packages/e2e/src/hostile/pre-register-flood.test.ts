import { status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { type CoreOperatorProcess, startCoreOperator } from "./core-operator.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { offenderStream, paddedBatch } from "./offender-stream.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

// While authentication takes 3 s, 20 messages of almost 4 MiB (80 MiB) after
// `register`: before the byte bound the operator buffered all of them (the
// count bound is 64).
const AUTH_MS = 3_000;
const MESSAGES = 20;
const MESSAGE_BYTES = 4 * 1024 * 1024 - 64 * 1024;

describe("hostile: megabytes sent while registration waits for authentication", () => {
  let operator: CoreOperatorProcess;
  let good: GoodPlugin;

  beforeAll(async () => {
    operator = await startCoreOperator({ slowAuthMs: AUTH_MS });
    good = await startGoodPlugin(operator, { name: "good" });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("refuses the stream with RESOURCE_EXHAUSTED past one max-size message", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const raw = openRawPluginStream(session);
      const offender = offenderStream(raw);
      await offender.write(registerMessage("offender"));
      const chunk: Frame = {
        streamId: 1,
        kind: { $case: "data", value: { data: Buffer.alloc(64 * 1024, 1), more: true } },
      };
      const message = paddedBatch([chunk], MESSAGE_BYTES);
      for (let i = 0; i < MESSAGES && !raw.stream.destroyed; i++) await offender.write(message);
      expectOffenderStatus(
        [await raw.outcome],
        status.RESOURCE_EXHAUSTED,
        /bytes sent before registration completed/,
      );
      expect((await operator.counters()).registered).toBe(1); // the good plugin only
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    const growth = await expectRssWithinBound(operator, baseline);
    console.log(`pre-registration flood: operator RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  }, 30_000);
});
