import { createRequire } from "node:module";
import { credentials, loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { connectPlugin, quietLogger } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

// A kubelet-style probe: a plain grpc-js client of grpc.health.v1.Health.
const { protoPath } = createRequire(import.meta.url)("grpc-health-check") as { protoPath: string };
const health = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: ServiceClientConstructor } } };
};

function check(address: string, service = ""): Promise<string> {
  const client = new health.grpc.health.v1.Health(address, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.Check!(
      { service },
      { deadline: Date.now() + 5_000 },
      (err: Error | null, res: { status: string }) => {
        client.close();
        err ? reject(err) : resolve(res.status);
      },
    ),
  );
}

describe("the operator's gRPC health service", () => {
  it("is SERVING while serving, follows a required plugin, and turns NOT_SERVING when the server drains", async () => {
    const operator = await startTestServer({
      health: { listen: "127.0.0.1:0", requiredPlugins: ["aws"] },
      drainGraceMs: 5_000,
    });
    const pluginPort = operator.target.replace("http://", "");
    const probePort = operator.server.healthAddress!;
    expect(probePort).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const address of [pluginPort, probePort]) {
      expect(await check(address)).toBe("SERVING");
      expect(await check(address, "plugin/aws")).toBe("NOT_SERVING");
    }

    const plugin = connectPlugin({
      target: operator.target,
      name: "aws",
      services: [[GreeterServiceService, createGreeter("aws").impl]],
      logger: quietLogger,
      drainGraceMs: 2_000,
    });
    await plugin.registered();
    expect(await check(probePort, "plugin/aws")).toBe("SERVING");

    // A call in flight holds the drain open; the probe must see NOT_SERVING meanwhile.
    const slow = operator.registry
      .get("aws")
      .call(GreeterServiceService.sayHello, { name: "slow", delayMs: 1_500 });
    const stopping = operator.close();
    expect(await check(probePort)).toBe("NOT_SERVING");
    expect((await slow).message).toBe("hello slow");
    await stopping;
    await plugin.close();
    await expect(check(probePort)).rejects.toMatchObject({ code: 14 }); // UNAVAILABLE: the probe address is closed
  });

  it("without grpc-health-check installed would say how to install it (the server fails to start, not at the first probe)", async () => {
    // grpc-health-check is installed here; this checks the option is really off by default.
    const operator = await startTestServer();
    await expect(check(operator.target.replace("http://", ""))).rejects.toMatchObject({ code: 12 }); // UNIMPLEMENTED
    await operator.close();
  });
});
