import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import { describe, expect, it } from "vitest";
import { FrameScheduler } from "./frame-scheduler.js";
import { OutboundStream } from "./outbound-stream.js";

function setup(window: number, maxChunk: number) {
  const frames: Frame[] = [];
  const scheduler = new FrameScheduler({
    write: (m: PluginStreamMessage) => {
      if (m.payload?.$case === "frames") frames.push(...m.payload.value.frames);
      return true;
    },
  });
  const stream = new OutboundStream(5, scheduler, window, maxChunk);
  /** Data frames sent so far: their sizes and `more` flags. */
  const data = () =>
    frames.flatMap((f) => (f.kind?.$case === "data" ? [[f.kind.value.data.length, f.kind.value.more]] : []));
  return { scheduler, stream, frames, data };
}

describe("OutboundStream", () => {
  it("cuts a message into chunks no larger than the peer's maximum", () => {
    const { scheduler, stream, data } = setup(1_000, 4);
    stream.pushMessage(Buffer.alloc(10));
    scheduler.flush();
    expect(data()).toEqual([
      [4, true],
      [4, true],
      [2, false],
    ]);
  });

  it("never sends beyond the window, and goes on when the peer grants more", () => {
    const { scheduler, stream, data } = setup(6, 100);
    let sent = false;
    stream.pushMessage(Buffer.alloc(10), () => {
      sent = true;
    });
    scheduler.flush();
    expect(data()).toEqual([[6, true]]);
    expect(stream.sendable).toBe(false);
    expect(sent).toBe(false);
    stream.addWindow(4);
    scheduler.flush();
    expect(data()).toEqual([
      [6, true],
      [4, false],
    ]);
    expect(sent).toBe(true);
  });

  it("keeps frames in order: new_stream, data, half_close", () => {
    const { scheduler, stream, frames } = setup(100, 100);
    stream.pushFrame({ $case: "newStream", value: { method: "/s/M", metadata: [], timeoutMs: undefined } });
    stream.pushMessage(Buffer.from("hi"));
    stream.pushFrame({ $case: "halfClose", value: {} });
    scheduler.flush();
    expect(frames.map((f) => [f.streamId, f.kind?.$case])).toEqual([
      [5, "newStream"],
      [5, "data"],
      [5, "halfClose"],
    ]);
  });

  it("sends an empty message as one empty data frame, even with no window", () => {
    const { scheduler, stream, data } = setup(0, 100);
    stream.pushMessage(Buffer.alloc(0));
    scheduler.flush();
    expect(data()).toEqual([[0, false]]);
  });

  it("is opened once a frame went out, and clear() drops what was not sent", () => {
    const { scheduler, stream, data } = setup(4, 100);
    expect(stream.opened).toBe(false);
    stream.pushMessage(Buffer.alloc(8));
    scheduler.flush();
    expect(stream.opened).toBe(true);
    stream.clear();
    stream.addWindow(100);
    scheduler.flush();
    expect(data()).toEqual([[4, true]]);
  });
});
