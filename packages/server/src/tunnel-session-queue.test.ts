import { Metadata, status } from "@grpc/grpc-js";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  DEFAULT_SETTINGS,
  type InterceptingListener,
  quietLogger,
  type StatusObject,
} from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HostServices } from "./host-services.js";
import { TunnelSession } from "./tunnel-session.js";

type FrameKind = NonNullable<Frame["kind"]>;

/** A revision-1 session over a fake stream, with `slots` streams and `queue` waiting calls allowed. */
function tunnelSession(slots: number, queue: number) {
  const written: PluginStreamMessage[] = [];
  const session = new TunnelSession(
    {
      id: "s1",
      name: "aws",
      version: "v1",
      protocolRevision: 1,
      identity: undefined,
      peer: "p",
      services: [],
    },
    { write: (message) => written.push(message) > 0, onDrain: () => {}, end: () => {} },
    {
      maxReceiveMessageSize: 1024,
      maxSendMessageSize: 1024,
      maxConcurrentStreams: slots,
      maxQueuedCalls: queue,
    },
    { local: { ...DEFAULT_SETTINGS }, peer: { ...DEFAULT_SETTINGS } },
    { intervalMs: 0, timeoutMs: 0 },
    { serving: { services: new HostServices(), authorize: undefined, logger: quietLogger }, authority: "" },
  );
  /** Frames written to the plugin so far, once the scheduler has flushed. */
  const sent = async () => {
    await session.scheduler.empty();
    return written.flatMap((m) => (m.payload?.$case === "frames" ? m.payload.value.frames : []));
  };
  /** The request text of each new stream, in the order the plugin saw them. */
  const opened = async () => {
    const frames = await sent();
    return frames.flatMap((f) =>
      f.kind?.$case === "data" ? [`${f.streamId}:${Buffer.from(f.kind.value.data).toString()}`] : [],
    );
  };
  const answer = (streamId: number, code = status.OK) => {
    const kind: FrameKind = {
      $case: "status",
      value: { code, message: "", details: Buffer.alloc(0), trailers: [] },
    };
    session.onMessage({ payload: { $case: "frames", value: { frames: [{ streamId, kind }] } } });
  };
  return { session, sent, opened, answer };
}

function recorder() {
  const statuses: StatusObject[] = [];
  const listener: InterceptingListener = {
    onReceiveMetadata: () => {},
    onReceiveMessage: () => {},
    onReceiveStatus: (result) => statuses.push(result),
  };
  return { listener, statuses };
}

function unary(session: TunnelSession, listener: InterceptingListener, request: string, deadline = Infinity) {
  const call = session.createCall("/svc/Method", deadline);
  call.start(new Metadata(), listener);
  call.sendMessageWithContext({}, Buffer.from(request));
  call.halfClose();
  call.startRead();
  return call;
}

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe("TunnelSession stream-slot queue", () => {
  afterEach(() => vi.useRealTimers());

  it("queues calls past maxConcurrentStreams and opens them first in, first out", async () => {
    const { session, opened, answer } = tunnelSession(2, 10);
    const r = recorder();
    for (const text of ["a", "b", "c", "d", "e"]) unary(session, r.listener, text);
    expect(session.inFlight).toBe(5);
    expect(await opened()).toEqual(["1:a", "2:b"]);
    answer(2);
    answer(1);
    expect(await opened()).toEqual(["1:a", "2:b", "3:c", "4:d"]);
    answer(3);
    expect(await opened()).toEqual(["1:a", "2:b", "3:c", "4:d", "5:e"]);
    answer(4);
    answer(5);
    expect(r.statuses.map((s) => s.code)).toEqual([0, 0, 0, 0, 0]);
    expect(session.inFlight).toBe(0);
  });

  it("sends a queued call's metadata, message and half-close once it has a stream", async () => {
    const { session, sent, answer } = tunnelSession(1, 10);
    const r = recorder();
    unary(session, r.listener, "a");
    unary(session, r.listener, "b");
    answer(1);
    const kinds = (await sent()).filter((f) => f.streamId === 2).map((f) => f.kind?.$case);
    expect(kinds).toEqual(["newStream", "data", "halfClose"]);
  });

  it("fails a call past the queue's bound at once with RESOURCE_EXHAUSTED naming the bound", async () => {
    const { session } = tunnelSession(1, 2);
    const r = recorder();
    for (const text of ["a", "b", "c", "d"]) unary(session, r.listener, text);
    await tick();
    expect(r.statuses).toHaveLength(1);
    expect(r.statuses[0]!.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(r.statuses[0]!.details).toContain("1 calls open and 2 waiting");
    expect(r.statuses[0]!.details).toContain("maxQueuedCalls");
    expect(session.inFlight).toBe(3);
  });

  it("with maxQueuedCalls 0, fails every call past the limit at once", async () => {
    const { session } = tunnelSession(1, 0);
    const r = recorder();
    unary(session, r.listener, "a");
    unary(session, r.listener, "b");
    await tick();
    expect(r.statuses.map((s) => s.code)).toEqual([status.RESOURCE_EXHAUSTED]);
  });

  it("takes a queued call whose deadline passes out of the queue at once, and clears its timer", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { session, opened, answer } = tunnelSession(1, 10);
    const r = recorder();
    unary(session, r.listener, "a");
    unary(session, r.listener, "b", Date.now() + 1_000);
    unary(session, r.listener, "c");
    expect(session.inFlight).toBe(3);
    vi.advanceTimersByTime(1_000);
    expect(r.statuses.map((s) => [s.code, s.details])).toEqual([
      [status.DEADLINE_EXCEEDED, "Deadline exceeded while waiting for a free stream on the plugin session"],
    ]);
    expect(session.inFlight).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
    expect(await opened()).toEqual(["1:a"]);
    answer(1);
    // "b" never reached the plugin: "c" is next.
    expect(await opened()).toEqual(["1:a", "2:c"]);
  });

  it("takes a cancelled queued call out of the queue and never sends it", async () => {
    const { session, sent, opened, answer } = tunnelSession(1, 10);
    const r = recorder();
    unary(session, r.listener, "a");
    const b = unary(session, r.listener, "b");
    unary(session, r.listener, "c");
    b.cancelWithStatus(status.CANCELLED, "Cancelled on client");
    expect(r.statuses.map((s) => s.code)).toEqual([status.CANCELLED]);
    expect(session.inFlight).toBe(2);
    expect(await opened()).toEqual(["1:a"]);
    answer(1);
    expect(await opened()).toEqual(["1:a", "2:c"]);
    expect((await sent()).some((f) => f.kind?.$case === "cancel")).toBe(false);
  });

  it("releases a queued call's write callbacks when it ends before it had a stream", () => {
    const { session } = tunnelSession(1, 10);
    const r = recorder();
    unary(session, r.listener, "a");
    const call = session.createCall("/svc/Method", Infinity);
    call.start(new Metadata(), r.listener);
    const written = vi.fn();
    call.sendMessageWithContext({ callback: written }, Buffer.from("b"));
    expect(written).not.toHaveBeenCalled();
    call.cancelWithStatus(status.CANCELLED, "Cancelled on client");
    expect(written).toHaveBeenCalledOnce();
  });

  it("fails queued calls with UNAVAILABLE saying they were never sent when the session ends", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { session } = tunnelSession(1, 10);
    const r = recorder();
    unary(session, r.listener, "a", Date.now() + 60_000);
    unary(session, r.listener, "b", Date.now() + 60_000);
    unary(session, r.listener, "c", Date.now() + 60_000);
    const idle = session.idle();
    session.terminate("plugin went away");
    await idle;
    expect(r.statuses.map((s) => s.code)).toEqual([
      status.UNAVAILABLE,
      status.UNAVAILABLE,
      status.UNAVAILABLE,
    ]);
    expect(r.statuses[0]!.details).not.toContain("never sent");
    expect(r.statuses[1]!.details).toContain("queued and never sent");
    expect(session.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
