import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import { type ConnectionState, connectPlugin } from "@operator-plugin-framework/client";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  GreeterServiceService,
  type SayHelloRequest,
  SayHelloRequest as SayHelloRequestCodec,
  type SayHelloResponse,
  SayHelloResponse as SayHelloResponseCodec,
} from "@operator-plugin-framework/proto/example";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStep, encode, INVALID_PROTOBUF, type Step, stepBytes, steps } from "./arbitraries.js";
import { type ByteSide, startByteOperator } from "./byte-operator.js";

/**
 * Fuzzing the plugin client: a hand-driven operator feeds the real plugin
 * client random, mutated and invalid messages. The process must not crash or
 * reject unhandled, and the plugin must come back: when a good operator
 * stream follows, it registers again and answers a call on it.
 */

type Scenario =
  /** Fuzz before any acknowledgement (seed-operator territory). */
  | { type: "unacked"; steps: Step[] }
  /** Fuzz after registerAck, with calls open on stream ids 1..calls. */
  | { type: "acked"; calls: number; steps: Step[] };

const scenario: fc.Arbitrary<Scenario> = fc.oneof(
  steps([], ["r1"]).map((s) => ({ type: "unacked" as const, steps: s })),
  fc.integer({ min: 0, max: 3 }).chain((calls) =>
    steps(Array.from({ length: calls + 1 }, (_, i) => i + 1)).map((s) => ({
      type: "acked" as const,
      calls,
      steps: s,
    })),
  ),
);

const HELLO = GreeterServiceService.sayHello.path;

/** Answers at once, or waits until cancelled for the name "hang", so fuzz frames find open calls. */
const greeter = {
  sayHello(
    call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>,
    callback: sendUnaryData<SayHelloResponse>,
  ) {
    if (call.request.name === "hang") return;
    callback(null, { message: `hello ${call.request.name}`, servedBy: "fuzz" });
  },
};

const ack = (): Buffer =>
  encode({
    payload: {
      $case: "registerAck",
      value: {
        accepted: true,
        hostServices: [],
        protocolRevision: 1,
        settings: undefined,
        sessionId: "s",
        code: 0,
        message: "",
      },
    },
  });

function openCall(streamId: number, name: string): Buffer {
  const request = Buffer.from(SayHelloRequestCodec.encode({ name, delayMs: 0 }).finish());
  const frames: Frame[] = [
    { streamId, kind: { $case: "newStream", value: { method: HELLO, metadata: [], timeoutMs: 10_000 } } },
    { streamId, kind: { $case: "data", value: { data: request, more: false } } },
    { streamId, kind: { $case: "halfClose", value: {} } },
  ];
  return encode({ payload: { $case: "frames", value: { frames } } });
}

function frames(m: PluginStreamMessage): Frame[] {
  return m.payload?.$case === "frames" ? m.payload.value.frames : [];
}

describe("fuzz: the plugin client against random and malformed operator streams", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  beforeAll(() => {
    process.on("unhandledRejection", onUnhandled);
    process.on("uncaughtException", onUnhandled);
  });
  afterAll(() => {
    process.off("unhandledRejection", onUnhandled);
    process.off("uncaughtException", onUnhandled);
  });

  async function run(s: Scenario): Promise<void> {
    const operator = await startByteOperator();
    const sides: ByteSide[] = [];
    const accept = async () => {
      const side = await operator.accept();
      sides.push(side);
      return side;
    };
    const plugin = connectPlugin({
      name: "fz",
      target: operator.target,
      services: [[GreeterServiceService, greeter]],
      allowPartialImplementation: true,
      backoff: { initialMs: 1, maxMs: 5 },
      drainGraceMs: 50,
    });
    const states: ConnectionState["state"][] = [];
    plugin.onState((state) => states.push(state.state));
    const where = `${s.type}: ${s.steps.map(describeStep).join(" ")}`;
    try {
      const first = await accept();
      await first.waitFor((m) => m.payload?.$case === "register");
      if (s.type === "acked") {
        first.write(ack());
        await plugin.registered();
        for (let id = 1; id <= s.calls; id++) first.write(openCall(id, "hang"));
      }
      for (const step of s.steps) first.write(stepBytes(step));
      first.write(INVALID_PROTOBUF);
      // Invalid protobuf breaks the stream on the plugin's side: it reconnects.
      await first.closed;

      // A good operator stream follows: the plugin registers again and serves.
      for (;;) {
        const side = await accept();
        await side.waitFor((m) => m.payload?.$case === "register");
        side.write(ack());
        side.write(openCall(1, "again"));
        const reply = await Promise.race([
          side.waitFor((m) => frames(m).some((f) => f.kind?.$case === "status")),
          side.closed.then(() => undefined),
        ]);
        // A stream the plugin retires (after a drain frame it already had) is skipped: take the next one.
        if (!reply) continue;
        const all = frames(reply);
        const data = all.find((f) => f.kind?.$case === "data");
        const end = all.find((f) => f.kind?.$case === "status");
        expect(end?.kind?.$case === "status" && end.kind.value.code, where).toBe(status.OK);
        expect(
          data?.kind?.$case === "data" && SayHelloResponseCodec.decode(data.kind.value.data).message,
          where,
        ).toBe("hello again");
        break;
      }
      expect(plugin.state.state, where).toBe("registered");
      expect(unhandled, where).toEqual([]);
    } finally {
      const closing = plugin.close();
      for (const side of sides) side.end();
      await closing;
      await operator.close();
    }
  }

  it("survives every fuzzed stream and registers again on the next good one", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 4242);
    await fc.assert(
      fc.asyncProperty(scenario, (s) => run(s)),
      {
        seed,
        numRuns: 60,
        endOnFailure: true,
        includeErrorInReport: true,
        reporter: (details) => {
          if (details.failed) {
            throw new Error(
              `client fuzz failed (seed ${details.seed}; rerun with FUZZ_SEED=${details.seed}): ${fc.defaultReportMessage(details)}`,
            );
          }
        },
      },
    );
  }, 60_000);
});
