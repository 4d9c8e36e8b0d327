import { status } from "@grpc/grpc-js";
import type { Frame } from "@operator-plugin-framework/proto";
import {
  GreeterServiceService,
  SayHelloRequest,
  SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { openRawStream, type RawStream, register } from "../fixtures/raw-stream.js";
import { createGreeter } from "../greeter-impl.js";

/** The operator's new_stream frames, until `count` calls have arrived with their request. */
async function nextCalls(raw: RawStream, count: number): Promise<{ streamId: number; name: string }[]> {
  const opened: number[] = [];
  const calls: { streamId: number; name: string }[] = [];
  while (calls.length < count) {
    const message = await raw.next();
    if (message.payload?.$case !== "frames") continue;
    for (const frame of message.payload.value.frames) {
      if (frame.kind?.$case === "newStream") opened.push(frame.streamId);
      if (frame.kind?.$case === "data") {
        calls.push({ streamId: frame.streamId, name: SayHelloRequest.decode(frame.kind.value.data).name });
      }
    }
  }
  expect(opened).toEqual(calls.map((call) => call.streamId));
  return calls;
}

function answer(streamId: number, message: string): Frame[] {
  const data = Buffer.from(SayHelloResponse.encode({ message, servedBy: "old" }).finish());
  return [
    { streamId, kind: { $case: "data", value: { data, more: false } } },
    {
      streamId,
      kind: {
        $case: "status",
        value: { code: status.OK, message: "", details: Buffer.alloc(0), trailers: [] },
      },
    },
  ];
}

describe("a revision-1 plugin against an operator with host services", () => {
  let operator: TestServer | undefined;
  let raw: RawStream | undefined;
  afterEach(async () => {
    raw?.close();
    await operator?.close();
  });

  it("is acknowledged at revision 1 with no host services, and called on ids 1, 2, 3 as before", async () => {
    operator = await startTestServer({
      hostServices: [[GreeterServiceService, createGreeter("operator").impl]],
    });
    raw = openRawStream(operator.target);
    raw.send(register("old", 1));
    const ack = await raw.next();
    expect(ack.payload?.$case).toBe("registerAck");
    if (ack.payload?.$case !== "registerAck") return;
    expect(ack.payload.value).toMatchObject({ accepted: true, protocolRevision: 1, hostServices: [] });

    const handle = operator.registry.get("old");
    const replies = ["a", "b", "c"].map((name) =>
      handle.call(GreeterServiceService.sayHello, { name, delayMs: 0 }, { timeoutMs: 10_000 }),
    );
    const calls = await nextCalls(raw, 3);
    expect(calls.map((call) => call.streamId)).toEqual([1, 2, 3]);
    raw.send({
      payload: {
        $case: "frames",
        value: { frames: calls.flatMap((call) => answer(call.streamId, `old greets ${call.name}`)) },
      },
    });
    expect((await Promise.all(replies)).map((reply) => reply.message)).toEqual([
      "old greets a",
      "old greets b",
      "old greets c",
    ]);
  });
});
