import { status } from "@grpc/grpc-js";
import { connectPlugin, type PluginConnection, quietLogger } from "@operator-plugin-framework/client";
import type { Frame, PluginStreamMessage } from "@operator-plugin-framework/proto";
import {
  GreeterServiceService,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { afterEach, describe, expect, it } from "vitest";
import { type OperatorSide, startFakeOperator } from "../fixtures/fake-operator.js";
import { createGreeter } from "../greeter-impl.js";

const HELLO = "/example.v1.GreeterService/SayHello";

/** A call as a revision-1 operator opens it: new_stream, one message, half_close. */
function callFrames(streamId: number, name: string): Frame[] {
  const data = Buffer.from(SayHelloRequest.encode({ name, delayMs: 0 }).finish());
  return [
    { streamId, kind: { $case: "newStream", value: { method: HELLO, metadata: [] } } },
    { streamId, kind: { $case: "data", value: { data, more: false } } },
    { streamId, kind: { $case: "halfClose", value: {} } },
  ];
}

/** Reads frames until every stream in `ids` has its status; returns the replies and codes. */
async function answers(
  side: OperatorSide,
  ids: number[],
): Promise<Map<number, { code: number; message: string }>> {
  const out = new Map<number, { code: number; message: string }>();
  const replies = new Map<number, string>();
  while (out.size < ids.length) {
    const message: PluginStreamMessage = await side.next();
    if (message.payload?.$case !== "frames") continue;
    for (const frame of message.payload.value.frames) {
      const kind = frame.kind;
      if (kind?.$case === "data")
        replies.set(frame.streamId, SayHelloResponse.decode(kind.value.data).message);
      if (kind?.$case === "status")
        out.set(frame.streamId, { code: kind.value.code, message: replies.get(frame.streamId) ?? "" });
    }
  }
  return out;
}

describe("a revision-2 plugin against a revision-1 operator", () => {
  let plugin: PluginConnection | undefined;
  let operator: Awaited<ReturnType<typeof startFakeOperator>> | undefined;
  afterEach(async () => {
    await plugin?.close();
    await operator?.close();
  });

  it("serves the operator's calls on every id, and fails host calls at once with UNIMPLEMENTED", async () => {
    operator = await startFakeOperator();
    plugin = connectPlugin({
      name: "dns",
      target: operator.target,
      services: [[GreeterServiceService, createGreeter("dns").impl]],
      keepalive: { intervalMs: 0 },
      logger: quietLogger,
      drainGraceMs: 200,
    });
    const side = await operator.accept();
    const register = await side.next();
    expect(register.payload?.$case === "register" && register.payload.value.protocolRevision).toBe(2);
    // A revision-1 operator ignores the higher number and answers 1, with no host services.
    side.send({
      payload: {
        $case: "registerAck",
        value: {
          accepted: true,
          protocolRevision: 1,
          sessionId: "r1",
          code: 0,
          message: "",
          hostServices: [],
        },
      },
    });
    await plugin.registered();

    // Revision 1 numbers calls 1, 2, 3: the even id is the operator's too, and must be served.
    side.send({
      payload: { $case: "frames", value: { frames: [...callFrames(1, "one"), ...callFrames(2, "two")] } },
    });
    const result = await answers(side, [1, 2]);
    expect(result.get(1)).toEqual({ code: status.OK, message: "hello one" });
    expect(result.get(2)).toEqual({ code: status.OK, message: "hello two" });

    const started = Date.now();
    const call = plugin.callHost(
      GreeterServiceService.sayHello,
      { name: "up", delayMs: 0 },
      { timeoutMs: 30_000 },
    );
    await expect(call).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    await expect(call).rejects.toThrow(/does not offer host services.*\(revision 1\).*upgrade the operator/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
