import { InterceptingCall, type Interceptor, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { GreeterServiceClient, GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { PluginFrameworkError } from "@operator-plugin-framework/registry";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A plugin whose every method fails with NOT_FOUND and a trailer, so that
// each kind of facade call meets a real remote error through the tunnel.
function notFound(): ServiceError {
  const metadata = new Metadata();
  metadata.set("x-reason", "gone");
  return Object.assign(new Error("no such greeting"), {
    code: status.NOT_FOUND,
    details: "no such greeting",
    metadata,
  });
}

const failingGreeter = {
  sayHello: (_call: unknown, callback: (err: ServiceError) => void) => callback(notFound()),
  // Reads every request (a stream only ends once read), then fails.
  collectNames: (
    call: { resume(): void; on(event: "end", fn: () => void): void },
    callback: (err: ServiceError) => void,
  ) => {
    call.on("end", () => callback(notFound()));
    call.resume();
  },
  // grpc-js's way for a streaming handler to end with an error status.
  countGreetings: (call: { emit(event: "error", err: ServiceError): void }) => call.emit("error", notFound()),
  chat: (call: { emit(event: "error", err: ServiceError): void }) => call.emit("error", notFound()),
};

const passThrough: Interceptor = (options, nextCall) => new InterceptingCall(nextCall(options));

describe("facade errors through a real tunnel", () => {
  let server: TestServer;
  let plugin: PluginConnection;

  beforeAll(async () => {
    server = await startTestServer();
    plugin = await startTestPlugin({
      name: "failing",
      target: server.target,
      services: [[GreeterServiceService, failingGreeter]],
    });
  });
  afterAll(async () => {
    await plugin?.close();
    await server?.close();
  });

  for (const [label, interceptors] of [
    ["without interceptors", []],
    ["with an interceptor", [passThrough]],
  ] as const) {
    it(`every kind of call rejects with PluginFrameworkError, trailers included (${label})`, async () => {
      const greeter = server.registry
        .get("failing")
        .service(GreeterServiceService, { interceptors: [...interceptors] });
      const request = { name: "x", delayMs: 0 };
      const calls = {
        unary: () => greeter.sayHello(request),
        clientStream: () => greeter.collectNames([request]),
        serverStream: async () => {
          for await (const _ of greeter.countGreetings({ name: "x", count: 1 }));
        },
        bidi: async () => {
          for await (const _ of greeter.chat([request]));
        },
      };
      for (const [kind, call] of Object.entries(calls)) {
        const err = await call().then(
          () => expect.unreachable(`${kind} succeeded`),
          (reason: unknown) => reason,
        );
        expect(err, kind).toBeInstanceOf(PluginFrameworkError);
        expect(err, kind).toMatchObject({ code: status.NOT_FOUND, details: "no such greeting" });
        expect((err as PluginFrameworkError).metadata.get("x-reason"), kind).toEqual(["gone"]);
      }
    });
  }

  it("leaves grpc-js's ServiceError to a generated client", async () => {
    const client = server.registry.get("failing").client(GreeterServiceClient);
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.sayHello({ name: "x", delayMs: 0 }, (error) => resolve(error)),
    );
    expect(err).not.toBeInstanceOf(PluginFrameworkError);
    expect(err).toMatchObject({ code: status.NOT_FOUND, details: "no such greeting" });
    client.close();
  });
});
