import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { type FakeKubeRbacProxy, startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates, type TestCertificates } from "@operator-plugin-framework/testkit/tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const hello = GreeterServiceService.sayHello;
const TOKEN = "plugin-token";

describe("the kube-rbac-proxy between plugin and operator goes away", () => {
  let certs: TestCertificates;
  let server: TestServer | undefined;
  const proxies: FakeKubeRbacProxy[] = [];
  let plugin: PluginConnection | undefined;

  beforeAll(async () => {
    certs = await createTestCertificates();
  });

  afterEach(async () => {
    await plugin?.close();
    plugin = undefined;
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await server?.close();
    server = undefined;
  });

  function startProxy(port = 0): Promise<FakeKubeRbacProxy> {
    return startFakeKubeRbacProxy({
      upstream: server!.target,
      tls: certs.server,
      port,
      authenticate: async (token) => (token === TOKEN ? { user: "plugin", groups: [] } : undefined),
      authorize: async ({ verb }) => verb === "create",
    }).then((proxy) => {
      proxies.push(proxy);
      return proxy;
    });
  }

  async function connectThrough(proxy: FakeKubeRbacProxy): Promise<PluginConnection> {
    plugin = connectPlugin({
      name: "proxied",
      target: proxy.url,
      token: TOKEN,
      tls: { ca: certs.ca.cert },
      services: [[GreeterServiceService, createGreeter("proxied").impl]],
      drainGraceMs: 500,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    await plugin.registered();
    return plugin;
  }

  async function expectServing(): Promise<void> {
    const handle = await server!.registry.waitFor("proxied", { timeoutMs: 10_000 });
    const reply = await handle.call(hello, { name: "again", delayMs: 0 }, { timeoutMs: 5_000 });
    expect(reply).toMatchObject({ message: "hello again", servedBy: "proxied" });
  }

  it("comes back on its own when the proxy is replaced by a new one on the same port", async () => {
    server = await startTestServer();
    const first = await startProxy();
    await connectThrough(first);
    await expectServing();

    await first.close();
    await expect.poll(() => server!.registry.has("proxied")).toBe(false);
    const second = await startProxy(first.port);
    expect(second.port).toBe(first.port);
    const since = Date.now();
    await expectServing();
    console.log(`plugin registered again ${Date.now() - since} ms after the new proxy listened`);
    expect(second.stats.requests).toBeGreaterThan(0);
  });

  it("comes back on its own after the proxy drops every connection", async () => {
    server = await startTestServer();
    const proxy = await startProxy();
    await connectThrough(proxy);
    await expectServing();
    const sessionBefore = server.registry.get("proxied").sessions[0]!.id;

    proxy.dropConnections();
    await expect.poll(() => server!.registry.get("proxied").sessions[0]?.id).not.toBe(sessionBefore);
    await expectServing();
    expect(server.registry.get("proxied").sessions).toHaveLength(1);
  });
});
