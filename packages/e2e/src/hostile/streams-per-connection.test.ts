import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream, type StreamOutcome } from "./raw-h2-stream.js";

// One HTTP/2 connection opening streams without bound (issue 10, item 4). The
// plugin port sends SETTINGS_MAX_CONCURRENT_STREAMS (maxStreamsPerConnection,
// 100 by default): a stream past it is reset (REFUSED_STREAM) by the server,
// or held back by the client's HTTP/2 layer, as Node's is. Either way the
// operator holds at most 100 streams of one connection. The unregistered-stream
// cap is raised here so that only the HTTP/2 limit applies.
const LIMIT = 100;
const STREAMS = 300;
const REGISTER_TIMEOUT_MS = 2_000;

describe("hostile: one connection opening more streams than the HTTP/2 limit", () => {
  let operator: OperatorProcess;
  let good: GoodPlugin;

  beforeAll(async () => {
    operator = await startOperatorProcess({
      auth: { mode: "none" },
      registerTimeoutMs: REGISTER_TIMEOUT_MS,
      caps: { maxUnregisteredStreamsPerConnection: 1_000 },
    });
    good = await startGoodPlugin(operator, { name: "good" });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("holds 100 streams of the connection; the rest never reach the operator", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const session = connectRaw(operator.address);
    try {
      const held: StreamOutcome[] = [];
      const hundred = new Promise<void>((resolve) => {
        for (let i = 0; i < STREAMS; i++) {
          void openRawPluginStream(session).outcome.then((outcome) => {
            if (outcome.code === status.UNKNOWN && /HTTP\/2 code 7\)/.test(outcome.details)) return; // REFUSED_STREAM
            held.push(outcome);
            if (held.length === LIMIT) resolve();
          });
        }
      });
      await hundred;
      // The streams the server took end at the register timeout; had it taken all 300, all would end together.
      expectOffenderStatus(held, status.DEADLINE_EXCEEDED, /no register message within 2000 ms/);
      expect((await operator.counters()).refused.DEADLINE_EXCEEDED).toBe(LIMIT);
      expect(session.remoteSettings.maxConcurrentStreams).toBe(LIMIT);
    } finally {
      session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
  }, 60_000);
});
