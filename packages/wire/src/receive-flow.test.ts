import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { QUEUED_MESSAGE_OVERHEAD, ReceiveFlow } from "./receive-flow.js";

const KiB = 1024;

function flow(windowSize = 256 * KiB, maxMessageSize = 1024 * KiB) {
  const grants: number[] = [];
  const receive = new ReceiveFlow({
    windowSize,
    maxChunkSize: 64 * KiB,
    maxMessageSize,
    grant: (n) => grants.push(n),
  });
  return { receive, grants };
}

describe("ReceiveFlow", () => {
  it("reassembles chunks into one message", () => {
    const { receive } = flow();
    expect(receive.accept(Buffer.from("ab"), true)).toBeUndefined();
    expect(receive.accept(Buffer.from("cd"), false)?.data.toString()).toBe("abcd");
    expect(receive.read()?.toString()).toBe("abcd");
  });

  it("refuses a chunk larger than negotiated with INVALID_ARGUMENT", () => {
    const { receive } = flow();
    expect(() => receive.accept(Buffer.alloc(64 * KiB + 1), false)).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/exceeds the negotiated maximum/),
      }),
    );
  });

  it("refuses data beyond the window while complete messages wait unread", () => {
    const { receive, grants } = flow(128 * KiB);
    receive.accept(Buffer.alloc(64 * KiB), false);
    receive.accept(Buffer.alloc(64 * KiB), false);
    expect(grants).toEqual([]);
    expect(() => receive.accept(Buffer.alloc(1), false)).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/window exceeded/),
      }),
    );
  });

  it("grants the window back as the application reads, in batches of a quarter window", () => {
    const { receive, grants } = flow(128 * KiB);
    for (let i = 0; i < 4; i++) receive.accept(Buffer.alloc(32 * KiB), false);
    receive.read();
    expect(grants).toEqual([32 * KiB]);
    receive.read();
    receive.read();
    receive.read();
    expect(grants.reduce((a, b) => a + b, 0)).toBe(128 * KiB);
    receive.accept(Buffer.alloc(64 * KiB), false);
  });

  it("lets a message larger than the window through while nothing waits unread", () => {
    const { receive, grants } = flow(128 * KiB);
    for (let i = 0; i < 7; i++) expect(receive.accept(Buffer.alloc(64 * KiB), true)).toBeUndefined();
    expect(receive.accept(Buffer.alloc(64 * KiB), false)?.data.length).toBe(512 * KiB);
    expect(grants.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(7 * 64 * KiB - 32 * KiB);
  });

  it("refuses a message over the size limit with RESOURCE_EXHAUSTED", () => {
    const { receive } = flow(1024 * KiB, 100 * KiB);
    receive.accept(Buffer.alloc(64 * KiB), true);
    expect(() => receive.accept(Buffer.alloc(64 * KiB), false)).toThrow(
      expect.objectContaining({ code: status.RESOURCE_EXHAUSTED }),
    );
  });

  it("does not grant bytes of a message in assembly while complete messages wait, so memory stays bounded", () => {
    const { receive, grants } = flow(128 * KiB);
    receive.accept(Buffer.alloc(64 * KiB), false);
    receive.accept(Buffer.alloc(64 * KiB), true);
    expect(grants).toEqual([]);
    expect(() => receive.accept(Buffer.alloc(1), true)).toThrow(
      expect.objectContaining({ code: status.INVALID_ARGUMENT }),
    );
  });

  it("grants the partial message once the queue drains, so a blocked sender can finish it", () => {
    const { receive, grants } = flow(128 * KiB);
    receive.accept(Buffer.alloc(64 * KiB), false);
    receive.accept(Buffer.alloc(64 * KiB), true);
    receive.read();
    expect(grants.reduce((a, b) => a + b, 0)).toBe(128 * KiB);
  });

  it("refuses an empty data frame that does not end a message", () => {
    const { receive } = flow();
    expect(() => receive.accept(Buffer.alloc(0), true)).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(/empty data frame that does not end a message/),
      }),
    );
  });

  it("charges unread empty messages, and ends a flood of them with RESOURCE_EXHAUSTED", () => {
    const windowSize = 64 * KiB;
    const maxMessageSize = 64 * KiB;
    const { receive } = flow(windowSize, maxMessageSize);
    const fits = Math.floor((windowSize + maxMessageSize) / QUEUED_MESSAGE_OVERHEAD);
    for (let i = 0; i < fits; i++) receive.accept(Buffer.alloc(0), false);
    expect(receive.pending).toBe(fits);
    expect(() => receive.accept(Buffer.alloc(0), false)).toThrow(
      expect.objectContaining({
        code: status.RESOURCE_EXHAUSTED,
        details: expect.stringMatching(/messages the application has not read/),
      }),
    );
    // Reading frees the budget again.
    receive.read();
    expect(receive.accept(Buffer.alloc(0), false)?.data.length).toBe(0);
  });

  it("copies a small chunk out of a large batch, and keeps a large chunk as a view", () => {
    const { receive } = flow();
    const batch = Buffer.alloc(1024 * KiB, 7);
    const tiny = receive.accept(batch.subarray(10, 11), false)!;
    expect(tiny.data.buffer).not.toBe(batch.buffer);
    expect(tiny.data[0]).toBe(7);
    const bigBatch = Buffer.alloc(256 * KiB);
    const big = flow(1024 * KiB).receive.accept(bigBatch.subarray(0, 64 * KiB), false)!;
    expect(big.data.buffer).toBe(bigBatch.buffer);
  });
});
