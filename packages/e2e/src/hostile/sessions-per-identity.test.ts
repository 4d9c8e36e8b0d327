import type { ClientHttp2Session } from "node:http2";
import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { offenderStream } from "./offender-stream.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream, type RawPluginStream, registerMessage } from "./raw-h2-stream.js";

// One identity registering its own name again and again (issue 10, item 4):
// nothing bounded its sessions, so one stolen token could fill the registry.
// Now it holds at most maxSessionsPerIdentity (64 by default) at once.
const LIMIT = 64;
const EXTRA = 36;
const OFFENDER = "system:serviceaccount:plugins:offender";

/** Opens a stream as `user` (kube-rbac-proxy's header) and registers `name`. */
function registerAs(session: ClientHttp2Session, user: string, name: string): RawPluginStream {
  const raw = openRawPluginStream(session, { "x-remote-user": user });
  raw.send(registerMessage(name));
  return raw;
}

/** Resolves once the operator acknowledged the registration on `raw`. */
function acknowledged(raw: RawPluginStream): Promise<void> {
  return new Promise((resolve, reject) => {
    offenderStream(raw).onMessage((message) => {
      if (message.payload?.$case === "registerAck") resolve();
    });
    void raw.outcome.then((outcome) => reject(new Error(`refused: ${outcome.details}`)));
  });
}

describe("hostile: one identity opening session after session", () => {
  let operator: OperatorProcess;
  let good: GoodPlugin;

  beforeAll(async () => {
    operator = await startOperatorProcess({ auth: { mode: "proxy-headers" } });
    good = await startGoodPlugin(operator, {
      name: "good",
      headers: { "x-remote-user": "system:serviceaccount:plugins:good" },
    });
  }, 60_000);
  afterAll(async () => {
    await good?.close();
    await operator?.stop();
  });

  it("refuses each registration past 64 with RESOURCE_EXHAUSTED naming the identity", async () => {
    const baseline = await operator.memory();
    await operator.startCalls("good");
    // A connection per session, as plugin pods have (one connection may hold only 32 unregistered streams).
    const sessions: ClientHttp2Session[] = [];
    const dial = () => {
      const session = connectRaw(operator.address);
      sessions.push(session);
      return session;
    };
    try {
      const admitted = Array.from({ length: LIMIT }, () => registerAs(dial(), OFFENDER, "offender"));
      await Promise.all(admitted.map(acknowledged));
      const refused = Array.from({ length: EXTRA }, () => registerAs(dial(), OFFENDER, "offender"));
      expectOffenderStatus(
        await Promise.all(refused.map((raw) => raw.outcome)),
        status.RESOURCE_EXHAUSTED,
        /"system:serviceaccount:plugins:offender" already has 64 plugin sessions.*\(maxSessionsPerIdentity: 64\)/,
      );
      const counters = await operator.counters();
      expect(counters.sessions).toBe(LIMIT + 1); // the good plugin's too
      expect(counters.refused.sessions_per_identity).toBe(EXTRA);
      expectGoodCallsSucceeded(await operator.stopCalls());
      // The place is per identity: the good plugin's ServiceAccount still registers another session
      // (after the calls stop, since this raw replica of "good" answers none).
      await acknowledged(registerAs(dial(), "system:serviceaccount:plugins:good", "good"));
    } finally {
      for (const session of sessions) session.destroy();
    }
    await expectRssWithinBound(operator, baseline);
  }, 60_000);
});
