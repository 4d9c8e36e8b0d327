import { Metadata, status } from "@grpc/grpc-js";
import type { PluginStreamMessage } from "@operator-plugin-framework/proto";
import type { InterceptingListener, StatusObject } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SeedSession } from "./seed-session.js";

const limits = { maxReceiveMessageSize: 1024, maxSendMessageSize: 1024, maxConcurrentStreams: 10 };

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

  it("ends the stream on an rpc_response for a request it never sent", () => {
    const { respond } = seedSession();
    expect(() => respond("7", "x")).toThrow(/protocol violation: rpc_response for unknown request/);
  });
});
