import type { handleUnaryCall } from "@grpc/grpc-js";
import {
  type GreeterServiceServer,
  GreeterServiceService,
  type SayHelloRequest,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import {
  type DnsProviderServiceServer,
  DnsProviderServiceService,
} from "@operator-plugin-framework/proto/example/dns";
import { quietLogger } from "@operator-plugin-framework/wire";
import { describe, expect, expectTypeOf, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import { noopGreeter } from "./test-support/noop-greeter.js";
import { type ServiceImplementation, service } from "./typed-service.js";

// These tests are mostly about what compiles: `tsc -p tsconfig.json` checks
// every `@ts-expect-error` below, and fails if the line compiles after all.

// A complete DnsProvider implementation whose methods do nothing.
const dnsImpl = Object.fromEntries(
  Object.keys(DnsProviderServiceService).map((key) => [key, () => {}]),
) as unknown as DnsProviderServiceServer;
const NOWHERE = "http://127.0.0.1:1";

describe("service(definition, implementation)", () => {
  it("pairs a definition with the generated ...Server implementation", () => {
    const entry = service(GreeterServiceService, noopGreeter);
    expect(entry).toEqual([GreeterServiceService, noopGreeter]);
    expectTypeOf<GreeterServiceServer>().toExtend<ServiceImplementation<typeof GreeterServiceService>>();
  });

  it("rejects an implementation of another service at compile time", () => {
    // @ts-expect-error a DnsProvider implementation is not a Greeter implementation.
    const wrong = service(GreeterServiceService, dnsImpl);
    expect(wrong[1]).toBe(dnsImpl);
  });

  it("rejects a handler of the wrong kind or message type", () => {
    const unaryChat: handleUnaryCall<SayHelloRequest, SayHelloResponse> = () => {};
    // @ts-expect-error chat is bidi streaming, not unary.
    service(GreeterServiceService, { ...noopGreeter, chat: unaryChat });
    const wrongMessages: handleUnaryCall<{ zone: string }, SayHelloResponse> = () => {};
    // @ts-expect-error sayHello takes a SayHelloRequest.
    service(GreeterServiceService, { ...noopGreeter, sayHello: wrongMessages });
  });
});

describe("connectPlugin({ services }) is typed pair by pair", () => {
  it("rejects a wrong implementation in the [definition, implementation] form too", () => {
    const attempt = () =>
      connectPlugin({
        name: "aws",
        target: NOWHERE,
        services: [
          [DnsProviderServiceService, dnsImpl],
          // @ts-expect-error the second pair implements DnsProvider, not Greeter.
          [GreeterServiceService, dnsImpl],
        ],
      });
    // At run time the same mistake is caught by the missing methods.
    expect(attempt).toThrow(/announces methods its implementation lacks/);
  });

  it("accepts a matching pair of each form, and a partial one only when asked", async () => {
    const typed = connectPlugin({
      name: "aws",
      target: NOWHERE,
      services: [service(GreeterServiceService, noopGreeter), [DnsProviderServiceService, dnsImpl]],
      backoff: { initialMs: 60_000 },
      logger: quietLogger,
    });
    const partial = connectPlugin({
      name: "gcp",
      target: NOWHERE,
      services: [[GreeterServiceService, { sayHello: noopGreeter.sayHello }]],
      allowPartialImplementation: true,
      backoff: { initialMs: 60_000 },
      logger: quietLogger,
    });
    await typed.close();
    await partial.close();
  });
});
