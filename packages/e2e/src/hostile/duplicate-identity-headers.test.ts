import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { startGoodPlugin } from "./good-plugin.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream, registerMessage } from "./raw-h2-stream.js";

const sa = (name: string) => `system:serviceaccount:plugins:${name}`;
const CONNECTIONS = 4;
const STREAMS_PER_CONNECTION = 100;

// Issue 10, item 9: two x-remote-user headers were joined into "alice, mallory" and admitted.
describe("hostile: duplicated identity headers (proxy-header mode)", () => {
  let operator: OperatorProcess;
  let good: Awaited<ReturnType<typeof startGoodPlugin>>;

  beforeAll(async () => {
    operator = await startOperatorProcess({ auth: { mode: "proxy-headers" } });
    good = await startGoodPlugin(operator, { name: "good", headers: { "x-remote-user": sa("good") } });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("refuses every stream with a repeated user or groups header with UNAUTHENTICATED; the good plugin is served throughout", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const sessions = Array.from({ length: CONNECTIONS }, () => connectRaw(operator.address));
    try {
      const streams = sessions.flatMap((session, c) =>
        Array.from({ length: STREAMS_PER_CONNECTION }, (_, i) => {
          // Half claim the good plugin's identity plus their own; half add groups to a valid user.
          const headers: Record<string, string | string[]> =
            (c * STREAMS_PER_CONNECTION + i) % 2 === 0
              ? { "x-remote-user": [sa("good"), sa("mallory")] }
              : {
                  "x-remote-user": sa("good"),
                  "x-remote-groups": ["system:authenticated", "system:masters"],
                };
          const stream = openRawPluginStream(session, headers);
          stream.send(registerMessage("good"));
          return stream;
        }),
      );
      const outcomes = await Promise.all(streams.map((stream) => stream.outcome));
      expectOffenderStatus(outcomes, status.UNAUTHENTICATED, /^2 x-remote-(user|groups) headers/);
    } finally {
      for (const session of sessions) session.destroy();
    }
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
    const counters = await operator.counters();
    expect(counters.refused.UNAUTHENTICATED).toBe(CONNECTIONS * STREAMS_PER_CONNECTION);
    // Nobody joined the good plugin's name.
    expect(counters).toMatchObject({ registered: 1, sessions: 1 });
  }, 60_000);
});
