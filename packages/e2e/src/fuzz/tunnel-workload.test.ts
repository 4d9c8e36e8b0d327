import {
  type ClientReadableStream,
  type ClientWritableStream,
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import {
  type SimpleRequest,
  type SimpleResponse,
  type StreamingInputCallRequest,
  type StreamingInputCallResponse,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponse,
  TestServiceClient,
  TestServiceService,
} from "@operator-plugin-framework/proto/testing";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Property (issue 3): random workloads of concurrent calls of all four kinds
 * through the real tunnel. Each call's plan (message counts and sizes, a
 * handler error, a cancel point, a deadline) drives both the caller and the
 * handler. Every call must end exactly once, with the planned payloads in
 * order and the planned status, and the session must be left clean.
 */

type Kind = "unary" | "serverStream" | "clientStream" | "bidi";
type Ending =
  | { type: "ok" }
  | { type: "error"; code: status; message: string }
  /** The handler sends its responses, then waits; the caller cancels once it has them all. */
  | { type: "cancel" }
  /** The caller cancels right after starting the call. */
  | { type: "cancelAtOnce" }
  /** The handler sends its responses, then waits; the caller's deadline ends the call. */
  | { type: "deadline"; ms: number };

interface CallPlan {
  kind: Kind;
  requests: number[];
  responses: number[];
  ending: Ending;
}

const KiB = 1024;
const size = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 2 * KiB }) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * KiB, max: 200 * KiB }) },
);
const sizes = (min: number, max: number) => fc.array(size, { minLength: min, maxLength: max });
const ending: fc.Arbitrary<Ending> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ type: "ok" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("error" as const),
      code: fc.integer({ min: 1, max: 16 }) as fc.Arbitrary<status>,
      message: fc.oneof(fc.constant("boom"), fc.string({ minLength: 1, maxLength: 40 })),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: "cancel" as const }) },
  { weight: 1, arbitrary: fc.constant({ type: "cancelAtOnce" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant("deadline" as const), ms: fc.integer({ min: 20, max: 150 }) }),
  },
);
const plan: fc.Arbitrary<CallPlan> = fc
  .record({
    kind: fc.constantFrom<Kind>("unary", "serverStream", "clientStream", "bidi"),
    requests: sizes(0, 5),
    responses: sizes(0, 5),
    ending,
  })
  .map((p) => ({
    ...p,
    requests: p.kind === "unary" || p.kind === "serverStream" ? [p.requests[0] ?? 0] : p.requests,
    responses: p.kind === "unary" || p.kind === "clientStream" ? [p.responses[0] ?? 0] : p.responses,
  }));
const workload = fc.array(plan, { minLength: 1, maxLength: 12 });

/** Deterministic content, so order and integrity are checked, not only sizes. */
function body(call: number, direction: "req" | "res", index: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const seed = (call * 131 + index * 31 + (direction === "req" ? 7 : 13)) & 0xff;
  for (let i = 0; i < length; i++) buffer[i] = (seed + i) & 0xff;
  return buffer;
}

/** What the handler side saw of one call. */
interface HandlerRecord {
  plan: CallPlan;
  id: number;
  invoked: boolean;
  requestMismatch: string | undefined;
  /** Resolves when the handler has sent its planned responses and waits (cancel / deadline plans). */
  reached: Promise<void>;
  reach: () => void;
  /** Resolves when the handler saw `cancelled`. */
  cancelled: Promise<void>;
  sawCancel: () => void;
}

const records = new Map<number, HandlerRecord>();

function recordOf(metadata: Metadata): HandlerRecord {
  const id = Number(metadata.get("x-plan")[0]);
  const record = records.get(id);
  if (!record) throw new Error(`no plan ${id}`);
  record.invoked = true;
  return record;
}

function checkRequest(record: HandlerRecord, index: number, payload: Buffer | undefined): void {
  const expected = body(record.id, "req", index, record.plan.requests[index] ?? -1);
  if (index >= record.plan.requests.length || !expected.equals(Buffer.from(payload ?? Buffer.alloc(0)))) {
    record.requestMismatch ??= `request ${index} differs`;
  }
}

function planError(record: HandlerRecord): ServiceError | undefined {
  const end = record.plan.ending;
  if (end.type !== "error") return undefined;
  return Object.assign(new Error(end.message), {
    code: end.code,
    details: end.message,
    metadata: new Metadata(),
  });
}

const waits = (record: HandlerRecord) =>
  record.plan.ending.type === "cancel" || record.plan.ending.type === "deadline";

const service: UntypedServiceImplementation = {
  unaryCall(call: ServerUnaryCall<SimpleRequest, SimpleResponse>, callback: sendUnaryData<SimpleResponse>) {
    const record = recordOf(call.metadata);
    call.on("cancelled", record.sawCancel);
    checkRequest(record, 0, call.request.payload?.body);
    if (waits(record)) return record.reach();
    const err = planError(record);
    if (err) return callback(err);
    callback(null, { payload: { body: body(record.id, "res", 0, record.plan.responses[0]!) } });
  },
  streamingOutputCall(call: ServerWritableStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
    const record = recordOf(call.metadata);
    call.on("cancelled", record.sawCancel);
    checkRequest(record, 0, call.request.payload?.body);
    record.plan.responses.forEach((n, i) => {
      call.write({ payload: { body: body(record.id, "res", i, n) } });
    });
    if (waits(record)) return record.reach();
    const err = planError(record);
    if (err) call.emit("error", err);
    else call.end();
  },
  streamingInputCall(
    call: ServerReadableStream<StreamingInputCallRequest, StreamingInputCallResponse>,
    callback: sendUnaryData<StreamingInputCallResponse>,
  ) {
    const record = recordOf(call.metadata);
    call.on("cancelled", record.sawCancel);
    call.on("error", () => {});
    let index = 0;
    call.on("data", (request: StreamingInputCallRequest) =>
      checkRequest(record, index++, request.payload?.body),
    );
    call.on("end", () => {
      if (index !== record.plan.requests.length) record.requestMismatch ??= `got ${index} requests`;
      if (waits(record)) return record.reach();
      const err = planError(record);
      if (err) return callback(err);
      callback(null, { aggregatedPayloadSize: record.plan.responses[0]! });
    });
  },
  fullDuplexCall(call: ServerDuplexStream<StreamingOutputCallRequest, StreamingOutputCallResponse>) {
    const record = recordOf(call.metadata);
    call.on("cancelled", record.sawCancel);
    call.on("error", () => {});
    const { responses } = record.plan;
    let received = 0;
    let sent = 0;
    const send = () => call.write({ payload: { body: body(record.id, "res", sent, responses[sent++]!) } });
    call.on("data", (request: StreamingOutputCallRequest) => {
      checkRequest(record, received++, request.payload?.body);
      // Ping-pong while both sides have messages: one response per request.
      if (sent < responses.length) send();
    });
    call.on("end", () => {
      if (received !== record.plan.requests.length) record.requestMismatch ??= `got ${received} requests`;
      while (sent < responses.length) send();
      if (waits(record)) return record.reach();
      const err = planError(record);
      if (err) call.emit("error", err);
      else call.end();
    });
  },
};

interface Outcome {
  code: status;
  details: string;
  responses: Buffer[];
  ends: number;
}

function runCall(client: TestServiceClient, id: number, p: CallPlan): Promise<Outcome> {
  const record = records.get(id)!;
  const metadata = new Metadata();
  metadata.set("x-plan", String(id));
  const deadline = Date.now() + (p.ending.type === "deadline" ? p.ending.ms : 15_000);
  const outcome: Outcome = { code: -1 as status, details: "", responses: [], ends: 0 };
  return new Promise<Outcome>((resolve) => {
    const end = (code: status, details: string) => {
      outcome.ends++;
      if (outcome.ends === 1) {
        outcome.code = code;
        outcome.details = details;
        // Give a duplicate end a chance to show up before the run is judged.
        setImmediate(() => resolve(outcome));
      }
    };
    const payload = (index: number) => ({ payload: { body: body(id, "req", index, p.requests[index]!) } });
    let cancel: () => void;
    const afterStart = (received: () => number) => {
      if (p.ending.type === "cancelAtOnce") cancel();
      if (p.ending.type === "cancel") {
        void record.reached.then(async () => {
          // Cancel once every planned response has arrived, so the outcome is fixed.
          const wanted = p.kind === "serverStream" || p.kind === "bidi" ? p.responses.length : 0;
          while (received() < wanted) await new Promise((r) => setImmediate(r));
          cancel();
        });
      }
    };
    const unaryDone = (err: ServiceError | null, value?: { payload?: { body: Buffer } | undefined }) => {
      if (err) return end(err.code, err.details);
      if (value?.payload) outcome.responses.push(Buffer.from(value.payload.body));
      end(status.OK, "");
    };
    const streamDone = (stream: ClientReadableStream<StreamingOutputCallResponse>) => {
      stream.on("data", (r: StreamingOutputCallResponse) =>
        outcome.responses.push(Buffer.from(r.payload?.body ?? [])),
      );
      stream.on("error", (err: ServiceError) => end(err.code, err.details));
      stream.on("end", () => {});
      stream.on("status", (s) => s.code === status.OK && end(s.code, s.details));
    };
    switch (p.kind) {
      case "unary": {
        const call = client.unaryCall(
          { responseSize: 0, sleepMs: 0, ...payload(0) },
          metadata,
          { deadline },
          unaryDone,
        );
        cancel = () => call.cancel();
        afterStart(() => 0);
        return;
      }
      case "serverStream": {
        const call = client.streamingOutputCall({ responseParameters: [], ...payload(0) }, metadata, {
          deadline,
        });
        cancel = () => call.cancel();
        streamDone(call);
        afterStart(() => outcome.responses.length);
        return;
      }
      case "clientStream": {
        const call: ClientWritableStream<StreamingInputCallRequest> = client.streamingInputCall(
          metadata,
          { deadline },
          (err, value) => {
            if (err) return end(err.code, err.details);
            // The handler answers with the planned response size: checked like a payload.
            end(status.OK, String(value?.aggregatedPayloadSize));
          },
        );
        cancel = () => call.cancel();
        afterStart(() => 0);
        for (let i = 0; i < p.requests.length; i++) call.write(payload(i));
        call.end();
        return;
      }
      case "bidi": {
        const call = client.fullDuplexCall(metadata, { deadline });
        cancel = () => call.cancel();
        streamDone(call);
        afterStart(() => outcome.responses.length);
        for (let i = 0; i < p.requests.length; i++) call.write({ responseParameters: [], ...payload(i) });
        call.end();
        return;
      }
    }
  });
}

function check(id: number, p: CallPlan, o: Outcome): void {
  const where = `call ${id} (${p.kind}, ${JSON.stringify(p.ending)})`;
  expect(o.ends, `${where} ended ${o.ends} times`).toBe(1);
  const record = records.get(id)!;
  if (p.ending.type === "cancelAtOnce") {
    expect(o.code, where).toBe(status.CANCELLED);
    return;
  }
  expect(record.requestMismatch, where).toBeUndefined();
  const expectedResponses = p.responses.map((n, i) => body(id, "res", i, n));
  switch (p.ending.type) {
    case "ok":
      expect(o.code, `${where}: ${o.details}`).toBe(status.OK);
      if (p.kind === "clientStream") expect(o.details, where).toBe(String(p.responses[0]));
      else
        expect(
          o.responses.map((b) => b.toString("hex")),
          where,
        ).toEqual(expectedResponses.map((b) => b.toString("hex")));
      return;
    case "error":
      expect({ code: o.code, details: o.details }, where).toEqual({
        code: p.ending.code,
        details: p.ending.message,
      });
      if (p.kind === "serverStream" || p.kind === "bidi")
        expect(o.responses.length, where).toBe(p.responses.length);
      return;
    case "cancel":
      expect(o.code, `${where}: ${o.details}`).toBe(status.CANCELLED);
      if (p.kind === "serverStream" || p.kind === "bidi")
        expect(o.responses.length, where).toBe(p.responses.length);
      return;
    case "deadline":
      expect(o.code, `${where}: ${o.details}`).toBe(status.DEADLINE_EXCEEDED);
      if (o.responses.length > 0) {
        const got = o.responses.map((b) => b.toString("hex"));
        expect(got, where).toEqual(expectedResponses.slice(0, got.length).map((b) => b.toString("hex")));
      }
      return;
  }
}

describe("property: random concurrent workloads through the tunnel", () => {
  let operator: TestServer;
  let plugin: PluginConnection;
  let client: TestServiceClient;
  let sessionId: string;
  let nextId = 1;

  beforeAll(async () => {
    operator = await startTestServer({ keepalive: { intervalMs: 0 } });
    plugin = await startTestPlugin({
      name: "prop",
      target: operator.target,
      services: [[TestServiceService, service]],
      allowPartialImplementation: true,
    });
    client = operator.registry.get("prop").client(TestServiceClient);
    sessionId = operator.registry.get("prop").sessions[0]!.id;
  });
  afterAll(async () => {
    client?.close();
    await plugin?.close();
    await operator?.close();
  });

  it("every call ends exactly once with its planned payloads or status; the session stays clean", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20260501);
    await fc.assert(
      fc.asyncProperty(workload, async (plans) => {
        const ids = plans.map((p) => {
          const id = nextId++;
          let reach!: () => void;
          let sawCancel!: () => void;
          const reached = new Promise<void>((r) => {
            reach = r;
          });
          const cancelled = new Promise<void>((r) => {
            sawCancel = r;
          });
          records.set(id, {
            plan: p,
            id,
            invoked: false,
            requestMismatch: undefined,
            reached,
            reach,
            cancelled,
            sawCancel,
          });
          return id;
        });
        try {
          const outcomes = await Promise.all(plans.map((p, i) => runCall(client, ids[i]!, p)));
          for (const [i, p] of plans.entries()) check(ids[i]!, p, outcomes[i]!);
          // A call the caller gave up on is cancelled on the handler's side too.
          await Promise.all(
            ids.map((id) => {
              const record = records.get(id)!;
              return waits(record) && record.invoked ? record.cancelled : undefined;
            }),
          );
          const sessions = operator.registry.get("prop").sessions;
          expect(sessions.map((s) => s.id)).toEqual([sessionId]);
          expect(sessions[0]!.inFlight).toBe(0);
          expect(plugin.state.state).toBe("registered");
        } finally {
          for (const id of ids) records.delete(id);
        }
      }),
      {
        seed,
        numRuns: 20,
        endOnFailure: true,
        includeErrorInReport: true,
        reporter: (details) => {
          if (details.failed) {
            throw new Error(
              `workload property failed (seed ${details.seed}, path "${details.counterexamplePath}"; ` +
                `rerun with FUZZ_SEED=${details.seed}): ${fc.defaultReportMessage(details)}`,
            );
          }
        },
      },
    );
  }, 60_000);
});
