import type { ClientHttp2Session } from "node:http2";
import { status } from "@grpc/grpc-js";
import { KubeConfig } from "@kubernetes/client-node";
import { allowAllNames, tokenReviewAuthenticator } from "@operator-plugin-framework/auth/operator";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createGreeter } from "../greeter-impl.js";
import { offenderStream } from "../hostile/offender-stream.js";
import {
  connectRaw,
  openRawPluginStream,
  type RawPluginStream,
  registerMessage,
  type StreamOutcome,
} from "../hostile/raw-h2-stream.js";

// Issue 10's attacks as generators, against an in-process operator with small
// caps so that each run takes milliseconds: many streams that never register,
// pings from a plugin that never reads, and reviews that hang, fail or
// answer. (Empty data frames and tiny messages in large batches are in
// `attackSteps`, which the server fuzzer mixes into every scenario.) Each
// property runs a handful of cases, a few seconds at most.

const sayHello = GreeterServiceService.sayHello;
const NUM_RUNS = Number(process.env.FUZZ_RUNS ?? 6);
const fuzzOptions = <T>(name: string): fc.Parameters<T> => ({
  seed: Number(process.env.FUZZ_SEED ?? 1010),
  numRuns: NUM_RUNS,
  endOnFailure: true,
  includeErrorInReport: true,
  reporter: (details: fc.RunDetails<T>) => {
    if (details.failed)
      throw new Error(
        `${name} (seed ${details.seed}; rerun with FUZZ_SEED=${details.seed}): ${fc.defaultReportMessage(details)}`,
      );
  },
});

/** Resolves once the server answered a ping: it has handled every frame sent before it. */
function pingPong(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    const send = () => session.ping((err) => (err ? reject(err) : resolve()));
    if (session.connecting) session.once("connect", send);
    else send();
  });
}

/** Resolves when the operator acknowledged registration, or with how it ended the stream. */
function registration(raw: RawPluginStream): Promise<"registered" | StreamOutcome> {
  return new Promise((resolve) => {
    offenderStream(raw).onMessage((message) => {
      if (message.payload?.$case === "registerAck") resolve("registered");
    });
    void raw.outcome.then(resolve);
  });
}

const PER_CONNECTION = 4;
const TOTAL = 10;

type StreamPlan = { connection: number; action: "idle" | "register" | "bad-name" | "frame-first" | "cancel" };

const streamPlans: fc.Arbitrary<StreamPlan[]> = fc.array(
  fc.record({
    connection: fc.integer({ min: 0, max: 3 }),
    action: fc.constantFrom("idle", "register", "bad-name", "frame-first", "cancel"),
  }),
  { minLength: 1, maxLength: 30 },
);

describe("fuzz: issue 10's attacks", () => {
  let server: TestServer | undefined;
  let good: PluginConnection | undefined;
  let kube: FakeKubeApi | undefined;
  const sessions: ClientHttp2Session[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) session.destroy();
    await good?.close();
    await server?.close();
    await kube?.close();
    good = undefined;
    server = undefined;
    kube = undefined;
  });
  const dial = () => {
    const session = connectRaw(server!.target.replace(/^http:\/\//, ""));
    sessions.push(session);
    return session;
  };
  async function startGood(): Promise<void> {
    good = await startTestPlugin({
      name: "good",
      target: server!.target,
      services: [[GreeterServiceService, createGreeter("good").impl]],
    });
  }
  async function expectGoodServes(): Promise<void> {
    expect(
      (await server!.registry.get("good").call(sayHello, { name: "x", delayMs: 0 }, { timeoutMs: 5_000 }))
        .message,
    ).toBe("hello x");
  }

  it("many unregistered streams: refused only past a cap, with its message, and no place leaks", async () => {
    server = await startTestServer({
      maxUnregisteredStreamsPerConnection: PER_CONNECTION,
      maxUnregisteredStreams: TOTAL,
      registerTimeoutMs: 30_000,
    });
    await startGood();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(streamPlans, async (plans) => {
        run++;
        const connections = Array.from({ length: 4 }, () => dial());
        const opened = plans.map((plan, i) => {
          const raw = openRawPluginStream(connections[plan.connection]!);
          if (plan.action === "register") raw.send(registerMessage(`r${run}-${i}`));
          if (plan.action === "bad-name") raw.send(registerMessage("Not_A_Name"));
          if (plan.action === "frame-first")
            raw.send({ payload: { $case: "ping", value: { nonce: 1, ack: false } } });
          if (plan.action === "cancel") raw.stream.close();
          return { plan, raw, ended: registration(raw) };
        });
        await Promise.all(connections.map(pingPong));
        const perConnection = [0, 1, 2, 3].map((c) => plans.filter((p) => p.connection === c).length);
        for (const { plan, ended } of opened) {
          if (plan.action === "idle") continue; // held until the register timeout
          const outcome = await ended;
          if (outcome === "registered") {
            expect(plan.action).toBe("register");
            continue;
          }
          if (outcome.code === status.RESOURCE_EXHAUSTED) {
            // Refused only where a cap could be reached.
            if (/maxUnregisteredStreamsPerConnection/.test(outcome.details))
              expect(perConnection[plan.connection]).toBeGreaterThan(PER_CONNECTION);
            else {
              expect(outcome.details).toMatch(/maxUnregisteredStreams: 10/);
              expect(plans.length).toBeGreaterThan(TOTAL);
            }
            continue;
          }
          if (plan.action === "cancel") continue;
          expect(plan.action, `${outcome.code} ${outcome.details}`).toMatch(/bad-name|frame-first/);
          expect(outcome.code).toBe(status.INVALID_ARGUMENT);
        }
        // Close everything; once the server has seen it, every place is free again.
        for (const { raw } of opened) raw.stream.close();
        await Promise.all(connections.map(pingPong));
        for (const session of connections) session.destroy();
        const fresh = Array.from({ length: TOTAL }, () => dial());
        const probes = fresh.map((session) => {
          let refused: StreamOutcome | undefined;
          const raw = openRawPluginStream(session);
          void raw.outcome.then((outcome) => {
            refused = outcome;
          });
          return { raw, refused: () => refused };
        });
        await Promise.all(fresh.map(pingPong));
        expect(probes.map((probe) => probe.refused())).toEqual(probes.map(() => undefined));
        // Free the probes' places too before the next case.
        for (const probe of probes) probe.raw.stream.close();
        await Promise.all(fresh.map(pingPong));
        for (const session of fresh) session.destroy();
        expect(server!.registry.names()).toEqual(["good"]);
      }),
      fuzzOptions("unregistered-stream fuzz"),
    );
    await expectGoodServes();
  }, 60_000);

  it("pings from a plugin that never reads: the session survives or ends with RESOURCE_EXHAUSTED", async () => {
    server = await startTestServer({ keepalive: { intervalMs: 0 } });
    await startGood();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6_000 }),
        fc.integer({ min: 200, max: 2_000 }),
        async (pings, perWrite) => {
          run++;
          const session = dial();
          const raw = openRawPluginStream(session, {}, { read: false });
          raw.send(registerMessage(`p${run}`));
          await server!.registry.waitFor(`p${run}`, { timeoutMs: 5_000 });
          let sent = 0;
          while (sent < pings && !raw.stream.destroyed) {
            for (let i = 0; i < perWrite && sent < pings; i++, sent++)
              raw.send({ payload: { $case: "ping", value: { nonce: sent + 1, ack: false } } });
            await pingPong(session);
          }
          let ended: StreamOutcome | undefined;
          void raw.outcome.then((outcome) => {
            ended = outcome;
          });
          await pingPong(session).catch(() => {});
          if (ended) {
            expect(ended.code, ended.details).toBe(status.RESOURCE_EXHAUSTED);
            expect(server!.registry.has(`p${run}`)).toBe(false);
          }
          await expectGoodServes();
          session.destroy();
        },
      ),
      fuzzOptions("ping fuzz"),
    );
  }, 60_000);

  it("reviews that hang, fail or answer: every stream ends at once, and recovery is immediate", async () => {
    // Long enough for a healthy review on a loaded machine; each hung one costs this much.
    const REVIEW_TIMEOUT_MS = 1_000;
    kube = await startFakeKubeApi();
    kube.tokens.set("valid-token", { user: "system:serviceaccount:plugins:valid", audiences: ["operator"] });
    kube.tokens.set("good-token", { user: "system:serviceaccount:plugins:good", audiences: ["operator"] });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(kube.kubeconfigText());
    server = await startTestServer({
      authenticator: tokenReviewAuthenticator({
        kubeConfig,
        audiences: ["operator"],
        reviewTimeoutMs: REVIEW_TIMEOUT_MS,
        authorize: false,
      }),
      authorizeName: allowAllNames(),
    });
    good = await startTestPlugin({
      name: "good",
      target: server.target,
      token: "good-token",
      services: [[GreeterServiceService, createGreeter("good").impl]],
    });
    let tokens = 0;
    let validCached = false;
    type Phase = { api: "hang" | 503 | "ok"; valid: boolean; streams: number };
    const phases = fc.array(
      fc.record({
        api: fc.constantFrom<Phase["api"]>("hang", 503, "ok"),
        valid: fc.boolean(),
        streams: fc.integer({ min: 1, max: 4 }),
      }),
      { minLength: 1, maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(phases, async (list) => {
        for (const phase of list) {
          kube!.setFailure(phase.api === "ok" ? undefined : phase.api);
          const session = dial();
          const attempts = Array.from({ length: phase.streams }, () => {
            const token = phase.valid ? "valid-token" : `unknown-${++tokens}`;
            const raw = openRawPluginStream(session, { authorization: `Bearer ${token}` });
            raw.send(registerMessage(phase.valid ? "valid" : "mallory"));
            return registration(raw);
          });
          const started = performance.now();
          const outcomes = await Promise.all(attempts);
          // Fail closed and fast: within the review timeout, never the register timeout.
          expect(performance.now() - started).toBeLessThan(5_000);
          for (const outcome of outcomes) {
            const expected =
              phase.valid && (validCached || phase.api === "ok")
                ? "registered"
                : phase.api === "hang"
                  ? {
                      code: status.UNAVAILABLE,
                      details: expect.stringMatching(/got no answer .* within 1000 ms/),
                    }
                  : phase.api === 503
                    ? { code: status.UNAVAILABLE, details: expect.stringMatching(/HTTP 503/) }
                    : { code: status.UNAUTHENTICATED, details: expect.stringMatching(/refused/) };
            expect(outcome, `${JSON.stringify(phase)}: ${JSON.stringify(outcome)}`).toEqual(expected);
          }
          if (phase.valid && phase.api === "ok") validCached = true;
          session.destroy();
        }
        kube!.setFailure(undefined);
      }),
      { ...fuzzOptions("review fuzz"), numRuns: Math.min(NUM_RUNS, 4) },
    );
    await expectGoodServes();
  }, 60_000);
});
