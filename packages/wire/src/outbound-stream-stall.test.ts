import type { PluginStreamMessage } from "@operator-plugin-framework/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FrameScheduler } from "./frame-scheduler.js";
import { OutboundStream } from "./outbound-stream.js";

function setup(window: number) {
  const scheduler = new FrameScheduler({ write: (_m: PluginStreamMessage) => true });
  const stalls: number[] = [];
  const stream = new OutboundStream(1, scheduler, window, 100, { flowStalled: (ms) => stalls.push(ms) });
  let now = 1_000;
  vi.spyOn(performance, "now").mockImplementation(() => now);
  return { scheduler, stream, stalls, advance: (ms: number) => (now += ms) };
}

describe("OutboundStream flow-control stalls", () => {
  afterEach(() => vi.restoreAllMocks());

  it("reports the time data waited for the peer's window", () => {
    const { scheduler, stream, stalls, advance } = setup(6);
    stream.pushMessage(Buffer.alloc(10));
    scheduler.flush();
    advance(40);
    stream.addWindow(2);
    scheduler.flush();
    advance(25);
    stream.addWindow(10);
    scheduler.flush();
    expect(stalls).toEqual([40, 25]);
  });

  it("times a message queued while the window is already closed, and ends the wait on clear", () => {
    const { scheduler, stream, stalls, advance } = setup(4);
    stream.pushMessage(Buffer.alloc(4));
    scheduler.flush();
    expect(stalls).toEqual([]);
    stream.pushMessage(Buffer.alloc(1));
    advance(30);
    stream.clear();
    stream.addWindow(10);
    expect(stalls).toEqual([30]);
  });

  it("reports nothing when the window never closes", () => {
    const { scheduler, stream, stalls } = setup(100);
    stream.pushMessage(Buffer.alloc(50));
    scheduler.flush();
    stream.addWindow(10);
    expect(stalls).toEqual([]);
  });
});
