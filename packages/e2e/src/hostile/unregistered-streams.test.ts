import type { ClientHttp2Session } from "node:http2";
import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { expectGoodCallsSucceeded, expectOffenderStatus, expectRssWithinBound } from "./assertions.js";
import { type GoodPlugin, startGoodPlugin } from "./good-plugin.js";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.js";
import { connectRaw, openRawPluginStream, type StreamOutcome } from "./raw-h2-stream.js";

// Streams that open and never send `register` (issue 10, item 4): each is
// held until the register timeout (10 s by default), so before the caps
// 60,000 of them grew the operator by 614 MiB. Now a connection holds at most
// 32 (maxUnregisteredStreamsPerConnection) and the server 1,024
// (maxUnregisteredStreams); past them a stream is refused at once.
const PER_CONNECTION = 32;
const TOTAL = 1024;

/** Resolves once the server answered a ping on `session`: it has seen every stream opened before. */
function pingPong(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = () => session.ping((err) => (err ? reject(err) : resolve()));
    if (session.connecting) session.once("connect", send);
    else send();
  });
}

/** Resolves with the first `count` outcomes of `outcomes`, in the order they end. */
function firstEnded(outcomes: Promise<StreamOutcome>[], count: number): Promise<StreamOutcome[]> {
  return new Promise((resolve) => {
    const ended: StreamOutcome[] = [];
    for (const outcome of outcomes) {
      void outcome.then((result) => {
        ended.push(result);
        if (ended.length === count) resolve(ended);
      });
    }
  });
}

describe("hostile: streams that never register", () => {
  let operator: OperatorProcess;
  let good: GoodPlugin;
  const sessions: ClientHttp2Session[] = [];

  // An operator per test: a held stream from one test must not count in the next.
  beforeEach(async () => {
    // A register timeout longer than the test: every stream the server holds stays held.
    operator = await startOperatorProcess({ auth: { mode: "none" }, registerTimeoutMs: 60_000 });
    good = await startGoodPlugin(operator, { name: "good" });
  }, 60_000);
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.destroy();
    await good?.close();
    await operator?.stop();
  });

  function connect(): ClientHttp2Session {
    const session = connectRaw(operator.address);
    sessions.push(session);
    return session;
  }

  it("refuses at once each stream past 32 unregistered on one connection", async () => {
    const connections = 20;
    const perConnection = 100; // within the HTTP/2 stream limit, so every one reaches the server
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const refused: Promise<StreamOutcome>[] = [];
    for (let c = 0; c < connections; c++) {
      const session = connect();
      const streams = Array.from({ length: perConnection }, () => openRawPluginStream(session));
      // HTTP/2 keeps a connection's streams in order: the first 32 are held, the rest refused.
      refused.push(...streams.slice(PER_CONNECTION).map((stream) => stream.outcome));
    }
    expectOffenderStatus(
      await Promise.all(refused),
      status.RESOURCE_EXHAUSTED,
      /has 32 plugin streams that have not registered.*\(maxUnregisteredStreamsPerConnection: 32\)/,
    );
    const counted = (await operator.counters()).refused;
    expect(counted.unregistered_streams_per_connection).toBe(connections * (perConnection - PER_CONNECTION));
    expect(counted.unregistered_streams).toBeUndefined();
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
  }, 60_000);

  it("refuses at once each stream past 1,024 unregistered on the whole server", async () => {
    const connections = 40; // 40 × 32 = 1,280 streams, none over the per-connection cap
    const baseline = await operator.memory();
    await operator.startCalls("good");
    const outcomes: Promise<StreamOutcome>[] = [];
    const opened = Array.from({ length: connections }, () => connect());
    for (const session of opened) {
      for (let s = 0; s < PER_CONNECTION; s++) outcomes.push(openRawPluginStream(session).outcome);
    }
    const over = connections * PER_CONNECTION - TOTAL;
    expectOffenderStatus(
      await firstEnded(outcomes, over),
      status.RESOURCE_EXHAUSTED,
      /already has 1024 plugin streams that have not registered.*\(maxUnregisteredStreams: 1024\)/,
    );
    // Every stream has reached the server: exactly the excess was refused, the rest are held.
    await Promise.all(opened.map(pingPong));
    const counted = (await operator.counters()).refused;
    expect(counted.unregistered_streams).toBe(over);
    expect(counted.unregistered_streams_per_connection).toBeUndefined();
    expectGoodCallsSucceeded(await operator.stopCalls());
    await expectRssWithinBound(operator, baseline);
  }, 60_000);
});
