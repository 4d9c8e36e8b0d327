import { once } from "node:events";
import {
  type ClientReadableStream,
  credentials,
  Server,
  ServerCredentials,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import {
  GreeterServiceClient,
  type GreeterServiceServer,
  GreeterServiceService,
  type SayHelloResponse,
} from "@operator-plugin-framework/proto/example";
import { PluginFrameworkError } from "@operator-plugin-framework/registry";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

// A request over the client's send limit, compared between a direct grpc-js
// client and a client through the tunnel: grpc-js reports the failure after
// the call method returned, never inside it.
const sendLimit = 1_000;
const big = "x".repeat(2 * sendLimit);

describe("a request over the send limit fails asynchronously, as with grpc-js", () => {
  let direct: Server;
  let directClient: GreeterServiceClient;
  let server: TestServer;
  let plugin: PluginConnection;
  let tunnelClient: GreeterServiceClient;

  beforeAll(async () => {
    direct = new Server();
    // The test greeter implements every method; its type is Partial for tests that drop some.
    direct.addService(GreeterServiceService, createGreeter("direct").impl as GreeterServiceServer);
    const port = await new Promise<number>((resolve, reject) =>
      direct.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    directClient = new GreeterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
      "grpc.max_send_message_length": sendLimit,
    });
    server = await startTestServer({ maxSendMessageSize: sendLimit });
    plugin = await startTestPlugin({
      name: "limits",
      target: server.target,
      services: [[GreeterServiceService, createGreeter("tunnel").impl]],
    });
    tunnelClient = server.registry.get("limits").client(GreeterServiceClient);
  });
  afterAll(async () => {
    directClient?.close();
    direct?.forceShutdown();
    await plugin?.close();
    await server?.close();
  });

  const clients = () =>
    [
      ["direct grpc-js", directClient],
      ["through the tunnel", tunnelClient],
    ] as const;

  it("runs a unary callback only after the call method returned", async () => {
    for (const [, client] of clients()) {
      let returned = false;
      const outcome = await new Promise<{ err: ServiceError | null; afterReturn: boolean }>((resolve) => {
        client.sayHello({ name: big, delayMs: 0 }, (err) => resolve({ err, afterReturn: returned }));
        returned = true;
      });
      expect(outcome.afterReturn).toBe(true);
      expect(outcome.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    }
  });

  it("returns the server stream and reports the failure as an error event", async () => {
    for (const [, client] of clients()) {
      let stream: ClientReadableStream<SayHelloResponse> | undefined;
      expect(() => {
        stream = client.countGreetings({ name: big, count: 1 });
      }).not.toThrow();
      const [err] = (await once(stream!, "error")) as [ServiceError];
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    }
  });

  it("fails facade calls of every kind with a PluginFrameworkError", async () => {
    const greeter = server.registry.get("limits").service(GreeterServiceService);
    const request = { name: big, delayMs: 0 };
    const failures = [
      greeter.sayHello(request),
      greeter.collectNames([request]),
      (async () => {
        for await (const _ of greeter.countGreetings({ name: big, count: 1 }));
      })(),
      (async () => {
        for await (const _ of greeter.chat([request]));
      })(),
    ];
    for (const failure of failures) {
      const err = await failure.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(err).toBeInstanceOf(PluginFrameworkError);
      expect(err).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    }
  });
});
