import { type Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import fc from "fast-check";

/**
 * fast-check arbitraries for plugin-stream messages: valid-looking frames
 * with wrong ids and out-of-order kinds, oversize fields, random oneof cases,
 * and wire bytes that are truncated, mutated or garbage.
 */

export const u32 = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 64 * 1024, 0x7fff_ffff, 0xffff_ffff),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);

export const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "/example.v1.GreeterService/SayHello", "SayHello", "x".repeat(70_000)),
  },
);

export const bytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)) },
  // Around and over the 64 KiB chunk size the server negotiates.
  { weight: 1, arbitrary: fc.constantFrom(64 * 1024, 64 * 1024 + 1, 300_000).map((n) => Buffer.alloc(n)) },
);

const metadataEntry = fc.record({
  key: fc.oneof(fc.constantFrom("x-a", "x-b-bin", "Bad Key", "grpc-status", ":path", "", "x-\u00e9"), text),
  value: fc.oneof(text, fc.constant("line\nbreak")),
  binaryValue: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
});
const metadata = fc.array(metadataEntry, { maxLength: 3 });

export const settings = fc.option(
  fc.record({
    initialWindowSize: u32,
    maxChunkSize: u32,
    maxConcurrentStreams: u32,
    maxMessageSize: u32,
    pingIntervalMs: u32,
  }),
  { nil: undefined },
);

type FrameKind = NonNullable<Frame["kind"]>;
const frameKind: fc.Arbitrary<FrameKind | undefined> = fc.oneof(
  fc.record({
    $case: fc.constant("newStream" as const),
    value: fc.record({ method: text, metadata, timeoutMs: fc.option(u32, { nil: undefined }) }),
  }),
  fc.record({ $case: fc.constant("data" as const), value: fc.record({ data: bytes, more: fc.boolean() }) }),
  fc.record({ $case: fc.constant("halfClose" as const), value: fc.constant({}) }),
  fc.record({ $case: fc.constant("cancel" as const), value: fc.record({ code: u32, message: text }) }),
  fc.record({ $case: fc.constant("windowUpdate" as const), value: fc.record({ increment: u32 }) }),
  fc.record({ $case: fc.constant("headers" as const), value: fc.record({ metadata }) }),
  fc.record({
    $case: fc.constant("status" as const),
    value: fc.record({ code: u32, message: text, details: bytes, trailers: metadata }),
  }),
  fc.constant(undefined),
);

/** Frames for stream ids near `ids` (the open calls) or anywhere. */
export function frame(ids: readonly number[] = []): fc.Arbitrary<Frame> {
  const near = ids.length > 0 ? [{ weight: 8, arbitrary: fc.constantFrom(...ids) }] : [];
  return fc.record({
    streamId: fc.oneof(
      ...near,
      { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 3, 4) },
      { weight: 1, arbitrary: u32 },
    ),
    kind: frameKind,
  });
}

export function message(ids: readonly number[] = [], requestIds: readonly string[] = []) {
  const requestId = requestIds.length > 0 ? fc.oneof(fc.constantFrom(...requestIds), text) : text;
  const any: fc.Arbitrary<unknown> = fc.oneof(
    fc.record({
      payload: fc.record({
        $case: fc.constant("register" as const),
        value: fc.record({
          name: fc.oneof(fc.constantFrom("fz", "fz-a", "Bad_Name", "", "x".repeat(64)), text),
          version: text,
          protocolRevision: fc.oneof(fc.constantFrom(0, 1, 2), u32),
          services: fc.array(
            fc.record({
              name: text,
              methods: fc.array(
                fc.record({ name: text, clientStreaming: fc.boolean(), serverStreaming: fc.boolean() }),
                { maxLength: 2 },
              ),
            }),
            { maxLength: 2 },
          ),
          settings,
          labels: fc.dictionary(text, text, { maxKeys: 2 }),
          fileDescriptorSet: bytes,
        }),
      }),
    }),
    fc.record({
      payload: fc.record({
        $case: fc.constant("rpcCall" as const),
        value: fc.record({ requestId, method: text, payload: bytes }),
      }),
    }),
    fc.record({
      payload: fc.record({
        $case: fc.constant("rpcResponse" as const),
        value: fc.record({ requestId, payload: bytes }),
      }),
    }),
    fc.record({
      payload: fc.record({
        $case: fc.constant("error" as const),
        value: fc.record({ message: text, code: text, requestId, grpcCode: u32 }),
      }),
    }),
    fc.record({
      payload: fc.record({
        $case: fc.constant("registerAck" as const),
        value: fc.record({
          accepted: fc.boolean(),
          protocolRevision: fc.oneof(fc.constantFrom(0, 1, 2), u32),
          settings,
          sessionId: text,
          code: u32,
          message: text,
          // Read by revision-2 plugins: any names, any flags.
          hostServices: fc.array(
            fc.record({
              name: text,
              methods: fc.array(
                fc.record({ name: text, clientStreaming: fc.boolean(), serverStreaming: fc.boolean() }),
                { maxLength: 3 },
              ),
            }),
            { maxLength: 2 },
          ),
        }),
      }),
    }),
    {
      weight: 6,
      arbitrary: fc.record({
        payload: fc.record({
          $case: fc.constant("frames" as const),
          value: fc.record({ frames: fc.array(frame(ids), { minLength: 1, maxLength: 4 }) }),
        }),
      }),
    },
    fc.record({
      payload: fc.record({
        $case: fc.constant("ping" as const),
        value: fc.record({ nonce: u32, ack: fc.boolean() }),
      }),
    }),
    fc.record({
      payload: fc.record({
        $case: fc.constant("drain" as const),
        value: fc.record({ reason: text, graceMs: u32 }),
      }),
    }),
    fc.constant({ payload: undefined }),
  );
  // The records above build exactly PluginStreamMessage's shapes; fast-check cannot infer the union.
  return any as fc.Arbitrary<PluginStreamMessage>;
}

export function encode(m: PluginStreamMessage): Buffer {
  return Buffer.from(PluginStreamMessage.encode(m).finish());
}

/** Bytes on the wire that are not (or not exactly) a valid message. */
export function wireBytes(
  ids: readonly number[] = [],
  requestIds: readonly string[] = [],
): fc.Arbitrary<Buffer> {
  const encoded = message(ids, requestIds).map(encode);
  return fc.oneof(
    // Garbage.
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
    // A valid message cut short.
    encoded
      .filter((b) => b.length > 1)
      .chain((b) => fc.integer({ min: 1, max: b.length - 1 }).map((n) => b.subarray(0, n))),
    // A valid message with a few bytes overwritten.
    encoded
      .filter((b) => b.length > 0)
      .chain((b) =>
        fc
          .array(fc.tuple(fc.nat({ max: b.length - 1 }), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          })
          .map((edits) => {
            const copy = Buffer.from(b);
            for (const [at, value] of edits) copy[at] = value;
            return copy;
          }),
      ),
  );
}

/** Always invalid protobuf: field 1 with wire type 7, which does not exist. */
export const INVALID_PROTOBUF = Buffer.from([0x0f, 0x01]);

/** One step of a fuzzed stream: a message sent with ts-proto, or raw bytes. */
export type Step = { message: PluginStreamMessage } | { bytes: Buffer };

function framesMessage(frames: Frame[]): Step {
  return { message: { payload: { $case: "frames", value: { frames } } } };
}

/**
 * The resource attacks of issue 10, kept small enough to run in
 * milliseconds: a run of empty data frames (ending messages or not), a tiny
 * message in a batch made large by another frame, a run of pings, and two
 * responses to one call.
 */
export function attackSteps(ids: readonly number[] = []): fc.Arbitrary<Step[]> {
  const id = ids.length > 0 ? fc.oneof(fc.constantFrom(...ids), u32) : u32;
  const emptyRun = fc
    .tuple(id, fc.integer({ min: 1, max: 5_000 }), fc.boolean())
    .map(([streamId, count, more]) => [
      framesMessage(
        Array.from({ length: count }, () => ({
          streamId,
          kind: { $case: "data" as const, value: { data: Buffer.alloc(0), more } },
        })),
      ),
    ]);
  const tinyInLargeBatch = fc.tuple(id, id).map(([tinyId, bigId]) => [
    framesMessage([
      { streamId: tinyId, kind: { $case: "data", value: { data: Buffer.from([0x0a, 0]), more: false } } },
      {
        streamId: bigId,
        kind: {
          $case: "status",
          value: { code: 0, message: "", details: Buffer.alloc(512 * 1024), trailers: [] },
        },
      },
    ]),
  ]);
  const pingRun = fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean()).map(([count, ack]) =>
    Array.from({ length: count }, (_, i) => ({
      message: { payload: { $case: "ping" as const, value: { nonce: i + 1, ack } } },
    })),
  );
  // Two responses, then a status: a unary caller used to wait for its deadline.
  const twoResponses = id.map((streamId) => [
    framesMessage([
      { streamId, kind: { $case: "data", value: { data: Buffer.from([0x0a, 0]), more: false } } },
      { streamId, kind: { $case: "data", value: { data: Buffer.from([0x0a, 0]), more: false } } },
      {
        streamId,
        kind: { $case: "status", value: { code: 0, message: "", details: Buffer.alloc(0), trailers: [] } },
      },
    ]),
  ]);
  return fc.oneof(emptyRun, tinyInLargeBatch, pingRun, twoResponses);
}

export function steps(ids: readonly number[] = [], requestIds: readonly string[] = []): fc.Arbitrary<Step[]> {
  return fc
    .array(
      fc.oneof(
        { weight: 8, arbitrary: message(ids, requestIds).map((m) => [{ message: m }]) },
        { weight: 2, arbitrary: wireBytes(ids, requestIds).map((b) => [{ bytes: b }]) },
        { weight: 1, arbitrary: attackSteps(ids) },
      ),
      { minLength: 1, maxLength: 8 },
    )
    .map((groups) => groups.flat());
}

export function stepBytes(step: Step): Buffer {
  return "bytes" in step ? step.bytes : encode(step.message);
}

/** A short description of a step for failure messages. */
export function describeStep(step: Step): string {
  if ("bytes" in step) return `bytes(${step.bytes.length}: ${step.bytes.subarray(0, 16).toString("hex")})`;
  const p = step.message.payload;
  if (p?.$case === "frames") {
    return `frames[${p.value.frames.map((f) => `${f.streamId}:${f.kind?.$case ?? "none"}`).join(",")}]`;
  }
  return p?.$case ?? "empty";
}
