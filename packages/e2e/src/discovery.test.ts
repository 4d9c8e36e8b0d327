import { status } from "@grpc/grpc-js";
import {
  type ConnectionState,
  type ConnectPluginOptions,
  connectPlugin,
  type PluginConnection,
  quietLogger,
  service,
} from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { DnsProviderServiceService } from "@operator-plugin-framework/proto/example/dns";
import type { PluginHandle } from "@operator-plugin-framework/registry";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { createDnsProvider } from "@operator-plugin-framework-examples/plugin/dns-provider";
import { createInMemoryZone } from "@operator-plugin-framework-examples/plugin/dns-zone";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const DNS = "example.v1.DnsProviderService";
const GREETER = "example.v1.GreeterService";

/** Which replicas answered `count` greetings sent through a handle, sorted. */
async function servedBy(handle: PluginHandle, count = 8): Promise<string[]> {
  const greeter = handle.service(GreeterServiceService);
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) seen.add((await greeter.sayHello({ name: "x", delayMs: 0 })).servedBy);
  return [...seen].sort();
}

describe("discovery: by service, version range and labels, across real sessions", () => {
  let server: TestServer;
  const plugins: PluginConnection[] = [];

  async function start(
    name: string,
    version: string,
    labels: Record<string, string>,
    dns: boolean,
  ): Promise<PluginConnection> {
    const greeter = service(GreeterServiceService, createGreeter(`${name}@${version}`).impl);
    const provider = service(
      DnsProviderServiceService,
      createDnsProvider(createInMemoryZone(name), quietLogger),
    );
    const connection = connectPlugin({
      name,
      version,
      labels,
      target: server.target,
      services: dns ? [greeter, provider] : [greeter],
      backoff: { initialMs: 20, maxMs: 200 },
      drainGraceMs: 1_000,
      logger: quietLogger,
    });
    plugins.push(connection);
    await connection.registered();
    return connection;
  }

  beforeAll(async () => {
    server = await startTestServer();
    // Two replicas of aws at different versions and regions, and three other plugins.
    await start("aws", "1.4.0", { region: "eu", tier: "gold" }, true);
    await start("aws", "1.5.0", { region: "us", tier: "gold" }, true);
    await start("gcp", "2.1.0", { region: "eu" }, true);
    await start("azure", "latest", {}, false);
  });
  afterAll(async () => {
    await Promise.all(plugins.map((plugin) => plugin.close()));
    await server.close();
  });

  it("keeps each session's labels, and shows on a handle those its replicas share", () => {
    const aws = server.registry.get("aws");
    expect(aws.sessions.map((session) => [session.version, session.labels])).toEqual([
      ["1.4.0", { region: "eu", tier: "gold" }],
      ["1.5.0", { region: "us", tier: "gold" }],
    ]);
    expect(aws.labels).toEqual({ tier: "gold" });
    expect(server.registry.get("azure").labels).toEqual({});
  });

  it("get() with a range or labels calls only the matching replicas", async () => {
    expect(await servedBy(server.registry.get("aws"))).toEqual(["aws@1.4.0", "aws@1.5.0"]);
    expect(await servedBy(server.registry.get("aws", { version: "^1.5.0" }))).toEqual(["aws@1.5.0"]);
    expect(await servedBy(server.registry.get("aws", { version: "~1.4.0" }))).toEqual(["aws@1.4.0"]);
    expect(await servedBy(server.registry.get("aws", { labels: { region: "us" } }))).toEqual(["aws@1.5.0"]);
  });

  it("byService() finds the plugins that announced a service, by definition or by name", async () => {
    const names = (handles: PluginHandle[]) => handles.map((handle) => handle.name);
    expect(names(server.registry.byService(DnsProviderServiceService))).toEqual(["aws", "gcp"]);
    expect(names(server.registry.byService(GREETER))).toEqual(["aws", "azure", "gcp"]);
    expect(names(server.registry.byService(DNS, { version: ">=2.0.0" }))).toEqual(["gcp"]);
    const eu = server.registry.byService(GreeterServiceService, { labels: { region: "eu" } });
    expect(names(eu)).toEqual(["aws", "gcp"]);
    expect(await servedBy(eu[0]!)).toEqual(["aws@1.4.0"]);
    expect(await servedBy(eu[1]!)).toEqual(["gcp@2.1.0"]);
  });

  it("says what was looked for and what is registered when nothing matches", () => {
    expect(() => server.registry.byService(DnsProviderServiceService, { version: "^3.0.0" })).toThrow(
      expect.objectContaining({
        code: status.NOT_FOUND,
        details:
          `no plugin serves ${DNS} at ^3.0.0; registered: ` +
          `aws@1.4.0 {region=eu,tier=gold} (${GREETER}, ${DNS}), ` +
          `aws@1.5.0 {region=us,tier=gold} (${GREETER}, ${DNS}), ` +
          `gcp@2.1.0 {region=eu} (${GREETER}, ${DNS}), ` +
          `azure@latest (not semver, so it matches no version range) (${GREETER})`,
      }),
    );
    expect(() => server.registry.get("azure", { version: ">=0.0.0" })).toThrow(
      /plugin "azure" has no session at >=0\.0\.0; registered: azure@latest \(not semver, so it matches no version range\), aws@1\.4\.0/,
    );
    expect(() => server.registry.get("aws", { labels: { region: "ap" } })).toThrow(
      /plugin "aws" has no session with labels region=ap; registered: aws@1\.4\.0 \{region=eu,tier=gold\}, aws@1\.5\.0 \{region=us,tier=gold\}/,
    );
  });

  it("waitFor() with a range waits for a replica at a matching version", async () => {
    const waiting = server.registry.waitFor("aws", { version: "^2.0.0", timeoutMs: 10_000 });
    const upgraded = await start("aws", "2.0.0", { region: "eu" }, true);
    const handle = await waiting;
    expect(await servedBy(handle)).toEqual(["aws@2.0.0"]);
    await upgraded.close();
    await expect(server.registry.waitFor("aws", { version: "^9.0.0", timeoutMs: 20 })).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: expect.stringMatching(
        /^plugin "aws" at \^9\.0\.0 did not register within 20 ms; registered: aws@1\.4\.0/,
      ),
    });
  });
});

describe("the plugin contract, seen from the operator", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("refuses a register over the label bounds with INVALID_ARGUMENT naming the bound", async () => {
    const labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));
    const options: ConnectPluginOptions = {
      name: "noisy",
      target: server.target,
      labels,
      services: [service(GreeterServiceService, createGreeter("noisy").impl)],
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      logger: quietLogger,
    };
    const connection = connectPlugin(options);
    try {
      const rejected = await new Promise<ConnectionState>((resolve) => {
        const off = connection.onState((state) => {
          if (state.state !== "rejected") return;
          off();
          resolve(state);
        });
      });
      expect(rejected).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: "register announces 33 labels, more than the limit of 32",
      });
      expect(server.registry.has("noisy")).toBe(false);
    } finally {
      await connection.close();
    }
  });

  it("answers a method a partial plugin lacks with UNIMPLEMENTED naming the plugin and the method", async () => {
    const { sayHello } = createGreeter("partial").impl;
    const connection = connectPlugin({
      name: "partial",
      target: server.target,
      services: [[GreeterServiceService, { sayHello }]],
      allowPartialImplementation: true,
      logger: quietLogger,
    });
    try {
      await connection.registered();
      const greeter = server.registry.get("partial").service(GreeterServiceService);
      expect((await greeter.sayHello({ name: "x", delayMs: 0 })).servedBy).toBe("partial");
      await expect(greeter.collectNames([{ name: "x", delayMs: 0 }])).rejects.toMatchObject({
        code: status.UNIMPLEMENTED,
        details:
          'plugin "partial" does not implement /example.v1.GreeterService/CollectNames ' +
          "(it serves a partial implementation)",
      });
    } finally {
      await connection.close();
    }
  });
});
