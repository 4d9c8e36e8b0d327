import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import { startFakeOperator } from "./test-support/fake-operator.js";
import { noopGreeter } from "./test-support/noop-greeter.js";
import { service } from "./typed-service.js";

const services = [service(GreeterServiceService, noopGreeter)];
const NOWHERE = "http://127.0.0.1:1";

describe("connectPlugin() refuses at once what the operator would refuse on every attempt", () => {
  it.each([
    ["AWS", "upper case"],
    ["aws_prod", "an underscore"],
    ["-aws", "a leading dash"],
    ["a".repeat(64), "64 characters"],
  ])("a name like %j (%s), with the DNS-1123 rule", (name) => {
    expect(() => connectPlugin({ name, target: NOWHERE, services })).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(
          /^connectPlugin: plugin name ".*" is not a DNS-1123 label \(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters\); the operator would refuse it on every attempt$/,
        ),
      }),
    );
  });

  it("an empty or missing name", () => {
    expect(() => connectPlugin({ name: "", target: NOWHERE, services })).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: expect.stringMatching(
          /^connectPlugin needs `name`.*a DNS-1123 label such as "aws" \(lower-case/,
        ),
      }),
    );
    const untyped = { target: NOWHERE, services } as unknown as Parameters<typeof connectPlugin>[0];
    expect(() => connectPlugin(untyped)).toThrow(/^INVALID_ARGUMENT: connectPlugin needs `name`/);
  });

  it("an implementation that lacks announced methods, listing them all", () => {
    const partial = { sayHello: noopGreeter.sayHello, chat: noopGreeter.chat };
    expect(() =>
      // @ts-expect-error countGreetings and collectNames are missing, so this does not compile either.
      connectPlugin({ name: "aws", target: NOWHERE, services: [[GreeterServiceService, partial]] }),
    ).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details:
          'plugin "aws" announces methods its implementation lacks: ' +
          '/example.v1.GreeterService/CountGreetings (key "countGreetings"), ' +
          '/example.v1.GreeterService/CollectNames (key "collectNames"); ' +
          "implement them, or pass allowPartialImplementation: true to answer UNIMPLEMENTED for them",
      }),
    );
  });
});

describe("connectPlugin() register message", () => {
  let operator: Awaited<ReturnType<typeof startFakeOperator>>;
  beforeEach(async () => {
    operator = await startFakeOperator();
  });
  afterEach(() => operator.close());

  it("announces the labels, the version and every method of a partial implementation", async () => {
    const plugin = connectPlugin({
      name: "aws",
      version: "1.4.0",
      labels: { region: "eu", "example.com/tier": "gold" },
      target: operator.target,
      services: [[GreeterServiceService, { sayHello: noopGreeter.sayHello }]],
      allowPartialImplementation: true,
    });
    try {
      const side = await operator.accept();
      const register = await side.next("register");
      expect(register).toMatchObject({
        name: "aws",
        version: "1.4.0",
        labels: { region: "eu", "example.com/tier": "gold" },
      });
      expect(register.services[0]!.methods.map((method) => method.name)).toEqual([
        "SayHello",
        "CountGreetings",
        "CollectNames",
        "Chat",
      ]);
    } finally {
      await plugin.close();
    }
  });
});
