import { Metadata, status } from "@grpc/grpc-js";
import type { PluginStreamMessage } from "@operator-plugin-framework/proto";
import type { InterceptingListener, StatusObject } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SeedSession } from "./seed-session.js";

const limits = {
  maxReceiveMessageSize: 1024,
  maxSendMessageSize: 1024,
  maxConcurrentStreams: 10,
  maxQueuedCalls: 10,
};

function seedSession(abandonGraceMs = 5_000) {
  const written: PluginStreamMessage[] = [];
  const session = new SeedSession(
    {
      id: "s1",
      name: "seed",
      version: "v1",
      protocolRevision: 0,
      identity: undefined,
      peer: "p",
      services: [],
    },
    { write: (message) => written.push(message) > 0, onDrain: () => {}, end: () => {} },
    limits,
    abandonGraceMs,
  );
  /** The request ids of the rpc_calls written so far. */
  const calls = () =>
    written.flatMap((m) => (m.payload?.$case === "rpcCall" ? [m.payload.value.requestId] : []));
  const respond = (requestId: string, text: string) =>
    session.onMessage({
      payload: { $case: "rpcResponse", value: { requestId, payload: Buffer.from(text) } },
    });
  return { session, calls, respond };
}

/** Records what a listener got; `hooks` run inside its callbacks, as a grpc-js client's would. */
function recorder(hooks: { onMessage?: () => void; onStatus?: () => void } = {}) {
  const events: string[] = [];
  const statuses: StatusObject[] = [];
  const listener: InterceptingListener = {
    onReceiveMetadata: () => events.push("metadata"),
    onReceiveMessage: (message: Buffer) => {
      events.push(`message ${message.toString()}`);
      hooks.onMessage?.();
    },
    onReceiveStatus: (result: StatusObject) => {
      events.push(`status ${result.code}`);
      statuses.push(result);
      hooks.onStatus?.();
    },
  };
  return { listener, events, statuses };
}

function unary(session: SeedSession, listener: InterceptingListener, request = "req") {
  const call = session.createCall("/svc/Method", Number.POSITIVE_INFINITY);
  call.start(new Metadata(), listener);
  call.sendMessageWithContext({}, Buffer.from(request));
  call.halfClose();
  call.startRead();
  return call;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("SeedSession", () => {
  it("delivers one reply once when the listener asks for more from inside onReceiveMessage", () => {
    const { session, calls, respond } = seedSession();
    let call: ReturnType<typeof unary> | undefined;
    const { listener, events } = recorder({ onMessage: () => call?.startRead() });
    call = unary(session, listener);
    respond(calls()[0]!, "one");
    expect(events).toEqual(["metadata", "message one", `status ${status.OK}`]);
  });

  it("sends the next queued call when a callback starts one from inside onReceiveStatus", () => {
    const { session, calls, respond } = seedSession();
    const second = recorder();
    const first = recorder({ onStatus: () => unary(session, second.listener, "second") });
    unary(session, first.listener);
    respond(calls()[0]!, "a");
    expect(calls()).toHaveLength(2);
    respond(calls()[1]!, "b");
    expect(first.events.at(-1)).toBe(`status ${status.OK}`);
    expect(second.events).toEqual(["metadata", "message b", `status ${status.OK}`]);
    expect(session.inFlight).toBe(0);
  });

  it("sends calls one at a time, in order", () => {
    const { session, calls, respond } = seedSession();
    const a = recorder();
    const b = recorder();
    unary(session, a.listener, "a");
    unary(session, b.listener, "b");
    expect(calls()).toEqual(["1"]);
    respond("1", "ra");
    expect(calls()).toEqual(["1", "2"]);
    respond("2", "rb");
    expect([a.events[1], b.events[1]]).toEqual(["message ra", "message rb"]);
  });

  it("fails a call that sends a second message with UNIMPLEMENTED, before anything is sent", () => {
    const { session, calls } = seedSession();
    const { listener, statuses } = recorder();
    const call = session.createCall("/svc/Stream", Number.POSITIVE_INFINITY);
    call.start(new Metadata(), listener);
    call.sendMessageWithContext({}, Buffer.from("1"));
    call.sendMessageWithContext({}, Buffer.from("2"));
    call.halfClose();
    expect(statuses.map((s) => s.code)).toEqual([status.UNIMPLEMENTED]);
    expect(calls()).toEqual([]);
  });

  it("keeps an abandoned call's slot for the grace period, then lets a late error land on the next call", () => {
    vi.useFakeTimers();
    const { session, calls } = seedSession(5_000);
    const lateError = () =>
      session.onMessage({
        payload: { $case: "error", value: { message: "late", code: "Internal", requestId: "", grpcCode: 0 } },
      });
    const abandoned = unary(session, recorder().listener);
    const next = recorder();
    abandoned.cancelWithStatus(status.CANCELLED, "gave up");
    unary(session, next.listener);
    vi.advanceTimersByTime(4_999);
    expect(calls()).toEqual(["1"]);
    vi.advanceTimersByTime(1);
    expect(calls()).toEqual(["1", "2"]);
    lateError();
    expect(next.statuses.map((s) => [s.code, s.details])).toEqual([[status.INTERNAL, "late"]]);
  });

  it("queues calls behind the one outstanding up to maxQueuedCalls, then fails with RESOURCE_EXHAUSTED", () => {
    const { session, calls } = seedSession();
    const r = recorder();
    for (let i = 0; i < 1 + limits.maxQueuedCalls; i++) unary(session, r.listener, `${i}`);
    expect(r.statuses).toEqual([]);
    unary(session, r.listener, "one too many");
    expect(r.statuses.map((s) => s.code)).toEqual([status.RESOURCE_EXHAUSTED]);
    expect(r.statuses[0]!.details).toContain("1 calls open and 10 waiting");
    expect(r.statuses[0]!.details).toContain("maxQueuedCalls");
    expect(calls()).toEqual(["1"]);
  });

  it("takes a cancelled queued call out of line, so the next one goes out in its place", () => {
    const { session, calls, respond } = seedSession();
    const a = recorder();
    const b = recorder();
    const c = recorder();
    unary(session, a.listener, "a");
    const queued = unary(session, b.listener, "b");
    unary(session, c.listener, "c");
    queued.cancelWithStatus(status.CANCELLED, "gave up");
    expect(session.inFlight).toBe(2);
    respond("1", "ra");
    expect(calls()).toEqual(["1", "2"]);
    respond("2", "rc");
    expect(c.events[1]).toBe("message rc");
    expect(b.statuses.map((s) => s.code)).toEqual([status.CANCELLED]);
  });

  it("fails the sent call and the queued ones with UNAVAILABLE when the session ends, saying which were never sent", () => {
    const { session } = seedSession();
    const sent = recorder();
    const queued = recorder();
    unary(session, sent.listener, "a");
    unary(session, queued.listener, "b");
    session.terminate("stream ended");
    expect(sent.statuses.map((s) => s.code)).toEqual([status.UNAVAILABLE]);
    expect(sent.statuses[0]!.details).not.toContain("never sent");
    expect(queued.statuses.map((s) => s.code)).toEqual([status.UNAVAILABLE]);
    expect(queued.statuses[0]!.details).toContain("queued and never sent");
    expect(session.inFlight).toBe(0);
  });

  it("ends the stream on an rpc_response for a request it never sent", () => {
    const { respond } = seedSession();
    expect(() => respond("7", "x")).toThrow(/protocol violation: rpc_response for unknown request/);
  });
});
