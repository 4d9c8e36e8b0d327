import { status } from "@grpc/grpc-js";
import { GreeterServiceService, SayHelloResponse } from "@operator-plugin-framework/proto/example";
import { afterEach, describe, expect, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import type { PluginConnection } from "./plugin-connection.js";
import { type OperatorSide, startFakeOperator } from "./test-support/fake-operator.js";

type FakeOperator = Awaited<ReturnType<typeof startFakeOperator>>;
const GREETER = {
  name: "example.v1.GreeterService",
  methods: [{ name: "SayHello", clientStreaming: false, serverStreaming: false }],
};

/** Answers the next host call on `side` with `message`; resolves with the method it saw. */
async function answerNext(side: OperatorSide, message: string): Promise<string> {
  for (;;) {
    const frame = await side.nextFrame();
    if (frame.kind?.$case !== "newStream") continue;
    const data = Buffer.from(SayHelloResponse.encode({ message, servedBy: message }).finish());
    side.sendFrames(
      { streamId: frame.streamId, kind: { $case: "data", value: { data, more: false } } },
      {
        streamId: frame.streamId,
        kind: {
          $case: "status",
          value: { code: status.OK, message: "", details: Buffer.alloc(0), trailers: [] },
        },
      },
    );
    return frame.kind.value.method;
  }
}

describe("which operator session a host call goes to", () => {
  const operators: FakeOperator[] = [];
  let plugin: PluginConnection | undefined;
  afterEach(async () => {
    await plugin?.close();
    await Promise.all(operators.splice(0).map((operator) => operator.close()));
  });

  /** One plugin with a session to each of two operators, acknowledged as given. */
  async function twoOperators(first: object, second: object): Promise<[OperatorSide, OperatorSide]> {
    operators.push(await startFakeOperator(), await startFakeOperator());
    plugin = connectPlugin({
      name: "aws",
      target: operators.map((operator) => operator.target),
      services: [[GreeterServiceService, {}]],
      allowPartialImplementation: true,
      keepalive: { intervalMs: 0 },
    });
    const sides: OperatorSide[] = [];
    for (const [i, ack] of [first, second].entries()) {
      const side = await operators[i]!.accept();
      await side.next("register");
      const registered = new Promise<void>((resolve) => {
        const off = plugin!.onState((state) => {
          if (state.state === "registered" && state.target.endsWith(operators[i]!.target.slice(7))) {
            off();
            resolve();
          }
        });
      });
      side.accept(`s${i}`, ack);
      await registered;
      sides.push(side);
    }
    return [sides[0]!, sides[1]!];
  }

  it("skips a revision-1 operator for one at revision 2", async () => {
    const [, second] = await twoOperators(
      { protocolRevision: 1 },
      { protocolRevision: 2, hostServices: [GREETER] },
    );
    const call = plugin!.callHost(GreeterServiceService.sayHello, { name: "x", delayMs: 0 });
    await answerNext(second, "second");
    await expect(call).resolves.toMatchObject({ message: "second" });
  });

  it("prefers the operator that announced the method's service over an earlier one that did not", async () => {
    const [, second] = await twoOperators(
      { protocolRevision: 2, hostServices: [] },
      { protocolRevision: 2, hostServices: [GREETER] },
    );
    const call = plugin!.callHost(GreeterServiceService.sayHello, { name: "x", delayMs: 0 });
    expect(await answerNext(second, "second")).toBe("/example.v1.GreeterService/SayHello");
    await expect(call).resolves.toMatchObject({ message: "second" });
  });
});
