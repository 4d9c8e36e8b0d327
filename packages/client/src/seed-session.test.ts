import { type ServerUnaryCall, type sendUnaryData, status } from "@grpc/grpc-js";
import type { PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  GreeterServiceService,
  type SayHelloRequest,
  SayHelloRequest as SayHelloRequestCodec,
  type SayHelloResponse,
  SayHelloResponse as SayHelloResponseCodec,
} from "@operator-plugin-framework/proto/example";
import { buildServiceTable, FrameScheduler } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { SeedSession } from "./seed-session.js";

const HELLO = "/example.v1.GreeterService/SayHello";
const payload = (name: string) => Buffer.from(SayHelloRequestCodec.encode({ name, delayMs: 0 }).finish());

/** A seed session whose answers land in `sent`; `hold` keeps a handler's callback for later. */
function seedSession() {
  const sent: PluginStreamMessage[] = [];
  const held: (() => void)[] = [];
  const seenCalls: ServerUnaryCall<SayHelloRequest, SayHelloResponse>[] = [];
  const impl = {
    sayHello(
      call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>,
      callback: sendUnaryData<SayHelloResponse>,
    ) {
      seenCalls.push(call);
      const { name } = call.request;
      if (name === "missing") return callback({ code: status.NOT_FOUND, details: "no such greeting" });
      const answer = () => callback(null, { message: `hello ${name}`, servedBy: "seed" });
      if (name.startsWith("hold")) held.push(answer);
      else answer();
    },
  };
  const { handlers } = buildServiceTable([[GreeterServiceService, impl]], {
    owner: `plugin "seed"`,
    allowPartialImplementation: true,
  });
  const scheduler = new FrameScheduler({ write: (message) => sent.push(message) > 0 });
  const session = new SeedSession(handlers, scheduler);
  return { session, sent, held, seenCalls };
}

describe("SeedSession", () => {
  it("answers an rpc_call with rpc_response, by full path or by the bare method name", () => {
    const { session, sent } = seedSession();
    session.onRpcCall({ requestId: "r1", method: HELLO, payload: payload("full") });
    session.onRpcCall({ requestId: "r2", method: "SayHello", payload: payload("bare") });
    expect(sent.map((m) => m.payload?.$case)).toEqual(["rpcResponse", "rpcResponse"]);
    const replies = sent.map((m) => (m.payload?.$case === "rpcResponse" ? m.payload.value : undefined));
    expect(replies.map((r) => r?.requestId)).toEqual(["r1", "r2"]);
    expect(replies.map((r) => SayHelloResponseCodec.decode(r!.payload).message)).toEqual([
      "hello full",
      "hello bare",
    ]);
    expect(session.inFlight).toBe(0);
  });

  it("answers errors with the Go code name, the request id and the numeric code", () => {
    const { session, sent } = seedSession();
    session.onRpcCall({ requestId: "r1", method: HELLO, payload: payload("missing") });
    session.onRpcCall({ requestId: "r2", method: "/x.Y/Nope", payload: Buffer.alloc(0) });
    session.onRpcCall({ requestId: "r3", method: HELLO, payload: Buffer.from([0xff, 0xff, 0xff]) });
    const errors = sent.map((m) => (m.payload?.$case === "error" ? m.payload.value : undefined));
    expect(errors[0]).toMatchObject({ requestId: "r1", code: "NotFound", grpcCode: status.NOT_FOUND });
    expect(errors[0]?.message).toBe("no such greeting");
    expect(errors[1]).toMatchObject({
      requestId: "r2",
      code: "Unimplemented",
      grpcCode: status.UNIMPLEMENTED,
    });
    expect(errors[2]).toMatchObject({ requestId: "r3", code: "Internal", grpcCode: status.INTERNAL });
    expect(errors[2]?.message).toMatch(/^Error deserializing request/);
  });

  it("gives handlers grpc-js's call surface: no deadline (Infinity) and a metrics recorder", () => {
    const { session, seenCalls } = seedSession();
    session.onRpcCall({ requestId: "r1", method: HELLO, payload: payload("x") });
    const [call] = seenCalls;
    expect(call?.getDeadline()).toBe(Number.POSITIVE_INFINITY);
    const recorder = call!.getMetricsRecorder();
    expect(() => {
      recorder.recordCPUUtilizationMetric(0.5);
      recorder.recordNamedMetric("queue", 3);
    }).not.toThrow();
    expect(call?.getPeer()).toBe("operator");
  });

  it("counts open calls, reports idle, and refuses new calls with UNAVAILABLE once leaving", () => {
    const { session, sent, held } = seedSession();
    let idle = 0;
    session.onIdle = () => idle++;
    session.onRpcCall({ requestId: "r1", method: HELLO, payload: payload("hold-1") });
    session.onRpcCall({ requestId: "r2", method: HELLO, payload: payload("hold-2") });
    expect(session.inFlight).toBe(2);

    session.stopAccepting();
    session.onRpcCall({ requestId: "r3", method: HELLO, payload: payload("late") });
    expect(sent.at(-1)?.payload).toMatchObject({
      $case: "error",
      value: { requestId: "r3", code: "Unavailable", grpcCode: status.UNAVAILABLE },
    });

    // Open calls go on and are answered.
    held.shift()!();
    expect(session.inFlight).toBe(1);
    expect(idle).toBe(0);
    held.shift()!();
    expect(session.inFlight).toBe(0);
    expect(idle).toBe(1);
    expect(sent.filter((m) => m.payload?.$case === "rpcResponse")).toHaveLength(2);
  });

  it("drops the answers of calls still open when the stream ends", () => {
    const { session, sent, held } = seedSession();
    session.onRpcCall({ requestId: "r1", method: HELLO, payload: payload("hold") });
    session.close();
    expect(session.inFlight).toBe(0);
    held.shift()!();
    expect(sent).toEqual([]);
    session.onRpcCall({ requestId: "r2", method: HELLO, payload: payload("after") });
    expect(sent).toEqual([]);
  });
});
