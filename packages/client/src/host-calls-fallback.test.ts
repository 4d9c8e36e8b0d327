import { type sendUnaryData, status } from "@grpc/grpc-js";
import {
  GreeterServiceService,
  SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import type { PluginConnection } from "./plugin-connection.js";
import { startFakeOperator } from "./test-support/fake-operator.js";
import { expectFrame, HELLO, REVISION_2, reply } from "./test-support/host-frames.js";

describe("host-service calls without host services", () => {
  let operator: Awaited<ReturnType<typeof startFakeOperator>>;
  let plugin: PluginConnection | undefined;
  beforeEach(async () => {
    operator = await startFakeOperator();
    plugin = connectPlugin({
      name: "aws",
      target: operator.target,
      services: [
        [
          GreeterServiceService,
          {
            sayHello: (_call: unknown, callback: sendUnaryData<SayHelloResponse>) =>
              callback(null, { message: "hi", servedBy: "aws" }),
          },
        ],
      ],
      allowPartialImplementation: true,
      keepalive: { intervalMs: 0 },
    });
  });
  afterEach(async () => {
    await plugin?.close();
    await operator.close();
  });

  it("fail at once with UNIMPLEMENTED against a revision-1 operator", async () => {
    const side = await operator.accept();
    await side.next("register");
    side.accept("s1", { protocolRevision: 1 });
    await plugin!.registered();
    const call = plugin!.callHost(
      GreeterServiceService.sayHello,
      { name: "a", delayMs: 0 },
      { timeoutMs: 60_000 },
    );
    await expect(call).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    await expect(call).rejects.toThrow(/does not offer host services; registered at .* \(revision 1\)/);
    await expect(call).rejects.toThrow(/upgrade the operator/);
  });

  it("fail at once with UNIMPLEMENTED against a seed operator", async () => {
    const side = await operator.accept();
    await side.next("register");
    // A seed operator never acknowledges: its first rpc_call is the registration.
    side.send({
      payload: {
        $case: "rpcCall",
        value: {
          requestId: "1",
          method: HELLO,
          payload: Buffer.from(SayHelloRequest.encode({ name: "x", delayMs: 0 }).finish()),
        },
      },
    });
    await side.next("rpcResponse");
    const call = plugin!.callHost(GreeterServiceService.sayHello, { name: "a", delayMs: 0 });
    await expect(call).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
    await expect(call).rejects.toThrow(/\(seed protocol\)/);
  });

  it("fail at once with UNAVAILABLE before registration when the call has no deadline", async () => {
    const call = plugin!.callHost(GreeterServiceService.sayHello, { name: "a", delayMs: 0 });
    await expect(call).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(call).rejects.toThrow(/no registered session .* give the call a deadline/);
  });

  it("wait for registration within their deadline, then go out", async () => {
    const call = plugin!.callHost(
      GreeterServiceService.sayHello,
      { name: "early", delayMs: 0 },
      { timeoutMs: 30_000 },
    );
    const side = await operator.accept();
    await side.next("register");
    side.accept("s1", REVISION_2);
    const open = await expectFrame(side, "newStream");
    expect(open.streamId).toBe(2);
    side.sendFrames(...reply(2, "late hello"));
    await expect(call).resolves.toMatchObject({ message: "late hello" });
  });

  it("share a revision-2 session with the operator's calls: odd ids served, even ids called", async () => {
    const side = await operator.accept();
    await side.next("register");
    side.accept("s1", REVISION_2);
    await plugin!.registered();
    const hostCall = plugin!.callHost(GreeterServiceService.sayHello, { name: "up", delayMs: 0 });
    const request = Buffer.from(SayHelloRequest.encode({ name: "down", delayMs: 0 }).finish());
    side.sendFrames(
      { streamId: 1, kind: { $case: "newStream", value: { method: HELLO, metadata: [] } } },
      { streamId: 1, kind: { $case: "data", value: { data: request, more: false } } },
      { streamId: 1, kind: { $case: "halfClose", value: {} } },
    );
    const seen = new Map<number, string[]>();
    while (!seen.get(1)?.includes("status") || !seen.get(2)?.includes("halfClose")) {
      const frame = await side.nextFrame();
      seen.set(frame.streamId, [...(seen.get(frame.streamId) ?? []), frame.kind!.$case]);
    }
    expect(seen.get(1)).toContain("data");
    expect(seen.get(2)?.[0]).toBe("newStream");
    side.sendFrames(...reply(2, "host says hi"));
    await expect(hostCall).resolves.toMatchObject({ message: "host says hi" });
  });

  it("fail with CANCELLED once the connection is closed", async () => {
    const waiting = plugin!.callHost(
      GreeterServiceService.sayHello,
      { name: "a", delayMs: 0 },
      { timeoutMs: 30_000 },
    );
    const failed = expect(waiting).rejects.toMatchObject({ code: status.CANCELLED });
    await plugin!.close();
    await failed;
    await expect(plugin!.callHost(GreeterServiceService.sayHello, { name: "b", delayMs: 0 })).rejects.toThrow(
      /plugin connection closed/,
    );
  });
});
