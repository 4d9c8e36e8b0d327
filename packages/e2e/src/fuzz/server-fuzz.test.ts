import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "../greeter-impl.js";
import { describeStep, encode, INVALID_PROTOBUF, type Step, stepBytes, steps } from "./arbitraries.js";
import { type ByteStream, openByteStream } from "./byte-stream.js";

/**
 * Fuzzing the operator (issue 5): streams of random, mutated, truncated and
 * invalid messages against the real server, while a well-behaved plugin is
 * connected alongside. Every bad stream must end with a non-OK status that
 * says something, calls opened on it must end, nothing may escape as an
 * unhandled error, and the good plugin must keep answering.
 */

type Scenario =
  /** Anything from the first message on. */
  | { type: "open"; steps: Step[] }
  /** A registered revision-1 session with calls open, then fuzz aimed at their stream ids. */
  | { type: "tunnel"; calls: number; steps: Step[] }
  /** A registered seed session with one rpc_call outstanding, then fuzz aimed at its request id. */
  | { type: "seed"; steps: Step[] };

const scenario: fc.Arbitrary<Scenario> = fc.oneof(
  steps().map((s) => ({ type: "open" as const, steps: s })),
  fc.integer({ min: 1, max: 3 }).chain((calls) =>
    steps(Array.from({ length: calls + 1 }, (_, i) => i + 1)).map((s) => ({
      type: "tunnel" as const,
      calls,
      steps: s,
    })),
  ),
  steps([], ["1", "2"]).map((s) => ({ type: "seed" as const, steps: s })),
);

const sayHello = GreeterServiceService.sayHello;
const register = (name: string, revision: number) =>
  encode({
    payload: {
      $case: "register",
      value: {
        name,
        version: "v1",
        protocolRevision: revision,
        services: [],
        settings: undefined,
        labels: {},
        fileDescriptorSet: Buffer.alloc(0),
      },
    },
  });

describe("fuzz: the operator against random and malformed plugin streams", () => {
  let operator: TestServer;
  let good: PluginConnection;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  let caseNo = 0;

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    process.on("uncaughtException", onUnhandled);
    operator = await startTestServer({ registerTimeoutMs: 5_000, keepalive: { intervalMs: 0 } });
    good = await startTestPlugin({
      name: "good",
      target: operator.target,
      services: [[GreeterServiceService, createGreeter("good").impl]],
    });
  });
  afterAll(async () => {
    await good?.close();
    await operator?.close();
    process.off("unhandledRejection", onUnhandled);
    process.off("uncaughtException", onUnhandled);
  });

  async function run(s: Scenario): Promise<void> {
    const n = ++caseNo;
    const name = `fz-${n}`;
    // A call of the good plugin runs across the whole case.
    const background = operator.registry
      .get("good")
      .call(sayHello, { name: `bg${n}`, delayMs: 1 }, { timeoutMs: 5_000 });
    const stream: ByteStream = openByteStream(operator.target);
    const calls: Promise<unknown>[] = [];
    try {
      if (s.type === "tunnel") {
        stream.write(register(name, 1));
        await stream.waitFor((m) => m.payload?.$case === "registerAck");
        const handle = operator.registry.get(name);
        for (let i = 0; i < s.calls; i++) {
          calls.push(
            handle.call(sayHello, { name: `c${i}`, delayMs: 0 }, { timeoutMs: 10_000 }).catch((e) => e),
          );
        }
        const opened = new Set<number>();
        await stream.waitFor((m) => {
          if (m.payload?.$case === "frames") {
            for (const f of m.payload.value.frames) if (f.kind?.$case === "newStream") opened.add(f.streamId);
          }
          return opened.size >= s.calls;
        });
      } else if (s.type === "seed") {
        stream.write(register(name, 0));
        const handle = await operator.registry.waitFor(name, { timeoutMs: 5_000 });
        calls.push(
          handle.call(sayHello, { name: "seed", delayMs: 0 }, { timeoutMs: 10_000 }).catch((e) => e),
        );
        await stream.waitFor((m) => m.payload?.$case === "rpcCall");
      }
      for (const step of s.steps) stream.write(stepBytes(step));
      // Whatever state the fuzz left the stream in, invalid protobuf must end it.
      stream.write(INVALID_PROTOBUF);
      const ended = await stream.status;
      const where = `case ${n} (${s.type}: ${s.steps.map(describeStep).join(" ")}) ended ${JSON.stringify(ended)}`;
      if (process.env.FUZZ_VERBOSE) console.log(where.slice(0, 300));
      expect(ended.code, where).not.toBe(status.OK);
      expect(ended.details.length, where).toBeGreaterThan(0);
      // Calls on the bad session end (any status); none hangs.
      const results = await Promise.all(calls);
      for (const result of results) {
        // A call ends with a reply or a real gRPC status, whatever the plugin sent.
        if (result instanceof Error)
          expect((result as { code?: number }).code, where).toBeOneOf(
            Array.from({ length: 16 }, (_, i) => i + 1),
          );
      }
      expect(operator.registry.names(), where).toEqual(["good"]);
      expect((await background).message).toBe(`hello bg${n}`);
      expect(unhandled, where).toEqual([]);
    } finally {
      stream.close();
      await Promise.allSettled([background, ...calls]);
    }
  }

  it("ends every bad stream with a clear status, ends its calls, and keeps the good plugin serving", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 5150);
    await fc.assert(
      fc.asyncProperty(scenario, (s) => run(s)),
      {
        seed,
        numRuns: 150,
        endOnFailure: true,
        includeErrorInReport: true,
        reporter: (details) => {
          if (details.failed) {
            throw new Error(
              `server fuzz failed (seed ${details.seed}; rerun with FUZZ_SEED=${details.seed}): ${fc.defaultReportMessage(details)}`,
            );
          }
        },
      },
    );
    const reply = await operator.registry.get("good").call(sayHello, { name: "after", delayMs: 0 });
    expect(reply.message).toBe("hello after");
    expect(good.state.state).toBe("registered");
  }, 60_000);
});
