import { credentials, Server, ServerCredentials, status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
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
import { expectedOutcomes, type InteropClients, interopCases } from "../conformance/interop-cases.js";
import { createGreeter } from "../greeter-impl.js";

/**
 * The interop cases in the other direction: the operator offers the test
 * service as a host service and the plugin calls it through its session.
 * Each case runs directly against grpc-js and through the tunnel with the
 * same implementation; both must give the expected outcome, and the same one.
 * The one intended difference: a service the operator does not offer is
 * UNIMPLEMENTED with the host-service message the protocol specifies.
 */
describe("interop conformance, plugin to operator: direct grpc-js vs. host services", () => {
  let direct: Server;
  let directClients: InteropClients;
  let operator: TestServer;
  let plugin: PluginConnection;
  let hostClients: InteropClients;

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
    operator = await startTestServer({ hostServices: [[TestServiceService, createInteropService()]] });
    plugin = await startTestPlugin({
      name: "interop",
      target: operator.target,
      services: [[GreeterServiceService, createGreeter("interop").impl]],
    });
    hostClients = {
      test: plugin.host(TestServiceClient),
      unimplemented: plugin.host(UnimplementedServiceClient),
    };
  });

  afterAll(async () => {
    directClients.test.close();
    directClients.unimplemented.close();
    hostClients.test.close();
    hostClients.unimplemented.close();
    await plugin.close();
    await operator.close();
    direct.forceShutdown();
  });

  for (const [name, run] of Object.entries(interopCases)) {
    it(name, async () => {
      const viaDirect = await run(directClients);
      const viaHost = await run(hostClients);
      expect(viaDirect).toMatchObject(expectedOutcomes[name]!);
      if (name === "unimplemented_service") {
        expect(viaHost).toEqual({
          code: status.UNIMPLEMENTED,
          details: expect.stringMatching(
            /offers no host service with method \/testing\.v1\.UnimplementedService\/UnimplementedCall/,
          ),
        });
        return;
      }
      if (name === "unimplemented_method") {
        // A method the implementation lacks names the full path, as the forward direction does.
        expect(viaHost).toEqual({
          code: status.UNIMPLEMENTED,
          details: expect.stringMatching(/does not implement \/testing\.v1\.TestService\/UnimplementedCall/),
        });
        return;
      }
      expect(viaHost).toEqual(viaDirect);
    });
  }
});
