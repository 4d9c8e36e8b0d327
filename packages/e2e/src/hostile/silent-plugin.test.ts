import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { type CoreOperatorProcess, startCoreOperator } from "./core-operator.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { offenderStream } from "./offender-stream.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

// A frozen plugin, as SIGSTOP leaves it: its stream stays open (HTTP/2 still
// answers, as a proxy in front of it would) but it never sends another message.
const INTERVAL_MS = 1_000;
const TIMEOUT_MS = 1_500;

describe("hostile: a plugin that registers and then falls silent", () => {
  let operator: CoreOperatorProcess;
  let good: GoodPlugin;

  beforeAll(async () => {
    operator = await startCoreOperator({ keepalive: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } });
    good = await startGoodPlugin(operator, { name: "good" });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("is cut within the liveness timeout, and the status names the unanswered ping", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const raw = openRawPluginStream(session);
      const offender = offenderStream(raw);
      await offender.write(registerMessage("offender"));
      expect(await operator.waitRegistered("offender")).toBe(true);
      const silentSince = performance.now();
      const outcome = await raw.outcome;
      const detectedAfter = performance.now() - silentSince;
      expectOffenderStatus(
        [outcome],
        status.UNAVAILABLE,
        /^plugin "offender" is unresponsive: no answer to ping within \d+ ms \(nothing heard for \d+ ms\)$/,
      );
      // Within the timeout (plus scheduling slack on a loaded machine), well before interval + timeout.
      expect(detectedAfter).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(detectedAfter).toBeLessThan(INTERVAL_MS + TIMEOUT_MS - 300);
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
  }, 30_000);
});
