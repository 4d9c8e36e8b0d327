import { type Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodePluginStreamMessage, encodePluginStreamMessage } from "./codec.js";

// Any UTF-16, lone surrogates included: the hand-written encoder must agree with ts-proto on all of it.
const text = fc.string({ unit: "binary", maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const entry = fc.record({
  key: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
  value: text,
  binaryValue: bytes,
});
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const kind: fc.Arbitrary<Frame["kind"]> = fc.oneof(
  fc.record({ $case: fc.constant("data" as const), value: fc.record({ data: bytes, more: fc.boolean() }) }),
  fc.record({ $case: fc.constant("windowUpdate" as const), value: fc.record({ increment: u32 }) }),
  fc.record({ $case: fc.constant("halfClose" as const), value: fc.constant({}) }),
  fc.record({
    $case: fc.constant("newStream" as const),
    value: fc.record({
      method: text,
      metadata: fc.array(entry, { maxLength: 3 }),
      timeoutMs: fc.option(u32, { nil: undefined }),
    }),
  }),
  fc.record({
    $case: fc.constant("cancel" as const),
    value: fc.record({ code: fc.integer({ min: 0, max: 16 }), message: text }),
  }),
  fc.record({
    $case: fc.constant("headers" as const),
    value: fc.record({ metadata: fc.array(entry, { maxLength: 3 }) }),
  }),
  fc.record({
    $case: fc.constant("status" as const),
    value: fc.record({
      code: fc.integer({ min: 0, max: 16 }),
      message: text,
      details: bytes,
      trailers: fc.array(entry, { maxLength: 3 }),
    }),
  }),
);
const frame = fc.record({ streamId: u32, kind });

describe("fast plugin stream codec", () => {
  it("encodes frame batches exactly as the generated code decodes them, and decodes what it encodes", () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), (frames) => {
        const message: PluginStreamMessage = { payload: { $case: "frames", value: { frames } } };
        const fast = encodePluginStreamMessage(message);
        const generated = PluginStreamMessage.decode(fast);
        expect(generated).toEqual(PluginStreamMessage.decode(PluginStreamMessage.encode(message).finish()));
        expect(decodePluginStreamMessage(fast)).toEqual(generated);
        expect(decodePluginStreamMessage(Buffer.from(PluginStreamMessage.encode(message).finish()))).toEqual(
          generated,
        );
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it("hands out data chunks as views into the received buffer, without copying", () => {
    const data = Buffer.from("payload bytes");
    const wire = encodePluginStreamMessage({
      payload: {
        $case: "frames",
        value: { frames: [{ streamId: 3, kind: { $case: "data", value: { data, more: true } } }] },
      },
    });
    const decoded = decodePluginStreamMessage(wire);
    const kind = decoded.payload?.$case === "frames" ? decoded.payload.value.frames[0]?.kind : undefined;
    expect(kind?.$case === "data" && kind.value.data.buffer).toBe(wire.buffer);
  });

  it("rejects truncated and malformed input with an error, never a wrong message", () => {
    const wire = encodePluginStreamMessage({
      payload: {
        $case: "frames",
        value: {
          frames: [{ streamId: 1, kind: { $case: "data", value: { data: Buffer.alloc(100), more: false } } }],
        },
      },
    });
    for (let cut = 1; cut < wire.length; cut++)
      expect(() => decodePluginStreamMessage(wire.subarray(0, cut))).toThrow();
  });
});
