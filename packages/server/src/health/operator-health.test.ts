import { createRequire } from "node:module";
import {
  credentials,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { createPluginRegistry, type PluginSession } from "@operator-plugin-framework/registry";
import { addSession } from "@operator-plugin-framework/registry/internal";
import { afterEach, describe, expect, it } from "vitest";
import { OperatorHealth } from "./operator-health.js";

// A kubelet-style probe: a plain grpc-js client of grpc.health.v1.Health.
const { protoPath } = createRequire(import.meta.url)("grpc-health-check") as { protoPath: string };
const healthPackage = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
  grpc: { health: { v1: { Health: ServiceClientConstructor } } };
};

function check(address: string, service: string): Promise<string> {
  const client = new healthPackage.grpc.health.v1.Health(address, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.Check!({ service }, (err: Error | null, res: { status: string }) => {
      client.close();
      err ? reject(err) : resolve(res.status);
    }),
  );
}

describe("OperatorHealth", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.forceShutdown();
  });

  async function serve(health: OperatorHealth): Promise<string> {
    const server = new Server();
    servers.push(server);
    health.addTo(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return `127.0.0.1:${port}`;
  }

  it('reports "" NOT_SERVING until told, then SERVING, then NOT_SERVING on drain', async () => {
    const health = await OperatorHealth.create(createPluginRegistry());
    const address = await serve(health);
    expect(await check(address, "")).toBe("NOT_SERVING");
    health.setServing(true);
    expect(await check(address, "")).toBe("SERVING");
    health.setServing(false);
    expect(await check(address, "")).toBe("NOT_SERVING");
    health.close();
  });

  it("gives each required plugin a service that follows its registration", async () => {
    const registry = createPluginRegistry();
    const health = await OperatorHealth.create(registry, { requiredPlugins: ["aws"] });
    const address = await serve(health);
    expect(await check(address, "plugin/aws")).toBe("NOT_SERVING");
    const remove = addSession(registry, fakeSession("aws"));
    expect(await check(address, "plugin/aws")).toBe("SERVING");
    remove();
    expect(await check(address, "plugin/aws")).toBe("NOT_SERVING");
    await expect(check(address, "plugin/gcp")).rejects.toMatchObject({ code: 5 }); // NOT_FOUND: not declared
    health.close();
  });
});

function fakeSession(name: string): PluginSession {
  return {
    id: `${name}-1`,
    name,
    version: "1.0.0",
    protocolRevision: 1,
    identity: undefined,
    connectedAt: new Date(),
    peer: "test",
    services: [],
    labels: {},
    inFlight: 0,
    accepting: true,
    retiring: false,
    channel: undefined as never,
  };
}
