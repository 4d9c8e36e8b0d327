import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import { describe, expect, it } from "vitest";
import { FrameScheduler } from "./frame-scheduler.js";
import { OutboundStream } from "./outbound-stream.js";

function windowUpdate(streamId: number): Frame {
  return { streamId, kind: { $case: "windowUpdate", value: { increment: 1 } } };
}

/** What each written message held: frame stream ids, or the non-frame message's kind. */
function summary(messages: PluginStreamMessage[]): unknown[] {
  return messages.map((m) =>
    m.payload?.$case === "frames" ? m.payload.value.frames.map((f) => f.streamId) : m.payload?.$case,
  );
}

describe("FrameScheduler", () => {
  it("writes frames queued in one turn as one message", () => {
    const written: PluginStreamMessage[] = [];
    const scheduler = new FrameScheduler({ write: (m) => written.push(m) > 0 });
    scheduler.sendControl(windowUpdate(1));
    scheduler.sendControl(windowUpdate(2));
    scheduler.flush();
    expect(summary(written)).toEqual([[1, 2]]);
  });

  it("takes frames queued from inside a write in order, from the running flush, never nested", () => {
    const written: PluginStreamMessage[] = [];
    let depth = 0;
    let maxDepth = 0;
    const scheduler = new FrameScheduler({
      write: (m) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        written.push(m);
        // A write callback that queues more, as a call's status after its last message does.
        if (written.length === 1) {
          scheduler.sendControl(windowUpdate(2));
          scheduler.flush();
        }
        depth--;
        return true;
      },
    });
    scheduler.sendControl(windowUpdate(1));
    scheduler.flush();
    expect(summary(written)).toEqual([[1], [2]]);
    expect(maxDepth).toBe(1);
  });

  it("writes a non-frame message after every frame queued before it", () => {
    const written: PluginStreamMessage[] = [];
    const scheduler = new FrameScheduler({ write: (m) => written.push(m) > 0 });
    scheduler.sendControl(windowUpdate(1));
    scheduler.sendMessage({ payload: { $case: "ping", value: { nonce: 1, ack: false } } });
    expect(summary(written)).toEqual([[1], "ping"]);
  });

  it("stops when the transport pushes back and goes on after resume()", () => {
    const written: PluginStreamMessage[] = [];
    const scheduler = new FrameScheduler({ write: (m) => written.push(m) > 0 && false });
    scheduler.sendControl(windowUpdate(1));
    scheduler.flush();
    scheduler.sendControl(windowUpdate(2));
    scheduler.flush();
    expect(summary(written)).toEqual([[1]]);
    scheduler.resume();
    scheduler.flush();
    expect(summary(written)).toEqual([[1], [2]]);
  });

  it("shares a batch fairly: each stream gets at most one quantum per turn", () => {
    const written: PluginStreamMessage[] = [];
    const scheduler = new FrameScheduler({
      write: (m) => written.push(m) > 0,
      quantum: 10,
      maxBatchBytes: 40,
    });
    const a = new OutboundStream(1, scheduler, 1_000, 1_000);
    const b = new OutboundStream(3, scheduler, 1_000, 1_000);
    a.pushMessage(Buffer.alloc(30));
    b.pushMessage(Buffer.alloc(30));
    scheduler.flush();
    expect(summary(written)[0]).toEqual([1, 3, 1, 3]);
  });

  it("starts each batch with the streams that waited: a bulk stream cannot starve a small call", () => {
    const written: PluginStreamMessage[] = [];
    const scheduler = new FrameScheduler({
      write: (m) => written.push(m) > 0,
      quantum: 100,
      maxBatchBytes: 20,
    });
    const bulk = new OutboundStream(1, scheduler, 1_000, 1_000);
    bulk.pushMessage(Buffer.alloc(100));
    const small = new OutboundStream(3, scheduler, 1_000, 1_000);
    small.pushMessage(Buffer.alloc(5));
    scheduler.flush();
    // The bulk stream came first and filled the first batch; the small call leads the second.
    expect(summary(written).slice(0, 2)).toEqual([[1], [3, 1]]);
  });

  it("with maxUnwrittenBytes, waits for written batches before handing the transport more data", () => {
    const written: PluginStreamMessage[] = [];
    const callbacks: (() => void)[] = [];
    const scheduler = new FrameScheduler({
      write: (m, onWritten) => {
        written.push(m);
        if (onWritten) callbacks.push(onWritten);
        return true;
      },
      maxBatchBytes: 10,
      maxUnwrittenBytes: 20,
    });
    const bulk = new OutboundStream(1, scheduler, 1_000, 1_000);
    bulk.pushMessage(Buffer.alloc(100));
    scheduler.flush();
    expect(written).toHaveLength(2);
    // Control frames are not held back.
    scheduler.sendControl(windowUpdate(5));
    scheduler.flush();
    expect(summary(written)[2]).toEqual([5]);
    callbacks.shift()?.();
    scheduler.flush();
    expect(written).toHaveLength(4);
    expect(summary(written)[3]).toEqual([1]);
  });

  it("drops what is queued on close, and empty() resolves", async () => {
    const written: PluginStreamMessage[] = [];
    const scheduler = new FrameScheduler({ write: (m) => written.push(m) > 0 && false });
    scheduler.sendControl(windowUpdate(1));
    scheduler.flush();
    scheduler.sendControl(windowUpdate(2));
    const empty = scheduler.empty();
    scheduler.close();
    await empty;
    scheduler.sendControl(windowUpdate(3));
    scheduler.resume();
    scheduler.flush();
    expect(summary(written)).toEqual([[1]]);
  });

  it("ends a session whose peer sends pings but never reads, once the answers pass the bound", () => {
    const written: PluginStreamMessage[] = [];
    const overflows: string[] = [];
    const scheduler = new FrameScheduler({
      // The transport never drains: every write after the first is refused.
      write: (m) => written.push(m) < 1,
      maxQueuedControl: 10,
      onControlOverflow: (message) => overflows.push(message),
    });
    const pong = { payload: { $case: "ping" as const, value: { nonce: 1, ack: true } } };
    for (let i = 0; i < 100; i++) scheduler.sendMessage(pong);
    expect(written).toHaveLength(11);
    expect(overflows).toHaveLength(1);
    expect(overflows[0]).toMatch(/does not read its stream, and 11 control messages/);
  });

  it("counts control messages only while the transport pushes back", () => {
    const overflows: string[] = [];
    let accept = false;
    const scheduler = new FrameScheduler({
      write: () => accept,
      maxQueuedControl: 10,
      onControlOverflow: (message) => overflows.push(message),
    });
    const pong = { payload: { $case: "ping" as const, value: { nonce: 1, ack: true } } };
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 8; i++) scheduler.sendMessage(pong);
      scheduler.resume();
    }
    accept = true;
    for (let i = 0; i < 100; i++) scheduler.sendMessage(pong);
    expect(overflows).toEqual([]);
  });
});
