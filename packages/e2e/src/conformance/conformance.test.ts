import { credentials, Server, ServerCredentials } from "@grpc/grpc-js";
import {
  TestServiceClient,
  TestServiceService,
  UnimplementedServiceClient,
} from "@operator-plugin-framework/proto/testing";
import {
  type PluginConnection,
  startTestPlugin,
  startTestServer,
  type TestServer,
} from "@operator-plugin-framework/testkit";
import { createInteropService } from "@operator-plugin-framework/testkit/interop";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedOutcomes, type InteropClients, interopCases } from "./interop-cases.js";

/**
 * Every gRPC interop case runs twice, directly against grpc-js and through
 * the tunnel, with the same service implementation. Both must give the
 * expected outcome, and the same one: codes, messages, metadata and sizes.
 */
// Where the tunnel says more than grpc-js on purpose: an operator calls many
// plugins, so "not implemented" names the plugin and the full method path.
const tunnelSaysMore: Record<string, { details: string }> = {
  unimplemented_method: {
    details:
      'plugin "interop" does not implement /testing.v1.TestService/UnimplementedCall ' +
      "(it serves a partial implementation)",
  },
};

describe("interop conformance: direct grpc-js vs. the tunnel", () => {
  let direct: Server;
  let directClients: InteropClients;
  let operator: TestServer;
  let plugin: PluginConnection;
  let tunnelClients: InteropClients;

  beforeAll(async () => {
    direct = new Server();
    direct.addService(TestServiceService, createInteropService());
    const port = await new Promise<number>((resolve, reject) =>
      direct.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const address = `127.0.0.1:${port}`;
    directClients = {
      test: new TestServiceClient(address, credentials.createInsecure()),
      unimplemented: new UnimplementedServiceClient(address, credentials.createInsecure()),
    };
    operator = await startTestServer();
    plugin = await startTestPlugin({
      name: "interop",
      target: operator.target,
      services: [[TestServiceService, createInteropService()]],
      // The interop service leaves UnimplementedCall out, as the interop tests expect.
      allowPartialImplementation: true,
    });
    const handle = operator.registry.get("interop");
    tunnelClients = {
      test: handle.client(TestServiceClient),
      unimplemented: handle.client(UnimplementedServiceClient),
    };
  });

  afterAll(async () => {
    directClients.test.close();
    directClients.unimplemented.close();
    await plugin.close();
    await operator.close();
    direct.forceShutdown();
  });

  for (const [name, run] of Object.entries(interopCases)) {
    it(name, async () => {
      const viaDirect = await run(directClients);
      const viaTunnel = await run(tunnelClients);
      expect(viaDirect).toMatchObject(expectedOutcomes[name]!);
      expect(viaTunnel).toEqual({ ...viaDirect, ...tunnelSaysMore[name] });
    });
  }
});
