import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import {
  proxyHeaderAuthenticator,
  subjectAccessReviewNameAuthorizer,
} from "@operator-plugin-framework/auth/operator";
import {
  type ConnectionState,
  connectPlugin,
  type PluginConnection,
} from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { type FakeKubeApi, startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { type FakeKubeRbacProxy, startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const AUDIENCE = "operator-plugin-framework";
const NAME = "rotor";
const USER = `system:serviceaccount:plugins:${NAME}`;
const MAX_AGE_MS = 300;

/**
 * Each token carries a group of its own ("token:v1", ...). The proxy forwards
 * the groups its TokenReview returned, so the session's identity in the
 * registry tells which token the plugin presented on that connection.
 */
const tokenGroup = (token: string) => `token:${token}`;

interface Env {
  kube: FakeKubeApi;
  server: TestServer;
  proxy: FakeKubeRbacProxy;
  tokenFile: string;
  /** The fake API's clock, for token expiry. */
  clock: { now: number };
  connect(): PluginConnection;
  /** Replaces the token file atomically, as the kubelet swaps a projected token. */
  writeToken(token: string): Promise<void>;
  addToken(token: string, expiresAt?: Date): void;
  close(): Promise<void>;
}

async function startEnv(): Promise<Env> {
  const clock = { now: Date.now() };
  const kube = await startFakeKubeApi({ now: () => clock.now });
  kube.rules.allow({ user: USER, nonResourceAttributes: { path: PLUGIN_STREAM_PATH, verb: "create" } });
  kube.rules.allow({
    user: USER,
    resourceAttributes: { group: "pluginframework.io", resource: "plugins", verb: "register", name: NAME },
  });
  const certs = await createTestCertificates();
  const server = await startTestServer({
    maxConnectionAgeMs: MAX_AGE_MS,
    drainGraceMs: 1_000,
    authenticator: proxyHeaderAuthenticator(),
    authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig: kube.kubeConfig() }),
  });
  const proxy = await startFakeKubeRbacProxy({
    upstream: server.target,
    tls: certs.server,
    kube: { url: kube.url, caPem: kube.caPem, token: kube.adminToken },
    audiences: [AUDIENCE],
    authHeaderFields: true,
  });
  const dir = await mkdtemp(join(tmpdir(), "opf-token-"));
  const tokenFile = join(dir, "token");
  const connections: PluginConnection[] = [];
  return {
    kube,
    server,
    proxy,
    tokenFile,
    clock,
    connect() {
      const connection = connectPlugin({
        name: NAME,
        target: proxy.url,
        tls: { ca: certs.ca.cert },
        tokenFile,
        services: [[GreeterServiceService, createGreeter(NAME).impl]],
        backoff: { initialMs: 20, maxMs: 200 },
        drainGraceMs: 1_000,
      });
      connections.push(connection);
      return connection;
    },
    async writeToken(token) {
      await writeFile(`${tokenFile}.new`, `${token}\n`);
      await rename(`${tokenFile}.new`, tokenFile);
    },
    addToken(token, expiresAt) {
      kube.tokens.set(token, {
        user: USER,
        groups: ["system:serviceaccounts", "system:authenticated", tokenGroup(token)],
        audiences: [AUDIENCE],
        ...(expiresAt ? { expiresAt } : {}),
      });
    },
    async close() {
      await Promise.all(connections.map((c) => c.close()));
      await proxy.close();
      await server.close();
      await kube.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The tokens (by their group) of the sessions registered under NAME now. */
function tokensInUse(server: TestServer): string[] {
  if (!server.registry.has(NAME)) return [];
  return server.registry
    .get(NAME)
    .sessions.map((s) => s.identity?.groups.find((g) => g.startsWith("token:")) ?? "none");
}

/** Resolves with the first refusal (or broken attempt) the connection reports from now on. */
function nextRefusal(connection: PluginConnection): Promise<{ code: status; details: string }> {
  return new Promise((resolve) => {
    const off = connection.onState((state: ConnectionState) => {
      if (state.state === "rejected" || state.state === "reconnecting") {
        off();
        resolve({ code: state.code, details: state.details });
      }
    });
  });
}

describe("token rotation through the fake kube-rbac-proxy with a maximum connection age", () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it("uses the replaced token file at the next reconnect, with no failed call; a revoked token is then refused", async () => {
    env = await startEnv();
    const { kube, server, proxy } = env;
    env.addToken("v1");
    env.addToken("v2");
    await env.writeToken("v1");
    const plugin = env.connect();
    await plugin.registered();
    expect(tokensInUse(server)).toEqual([tokenGroup("v1")]);

    const refusals: ConnectionState[] = [];
    plugin.onState((state) => {
      if (state.state === "reconnecting" || state.state === "rejected") refusals.push(state);
    });
    const reviewsBefore = kube.requests.tokenreviews;
    await env.writeToken("v2");

    // Calls keep going while the aged session drains and the plugin registers
    // again with the new token. Bounded by count, not by time.
    const handle = server.registry.get(NAME);
    let ok = 0;
    for (let i = 0; i < 5_000 && !tokensInUse(server).includes(tokenGroup("v2")); i++) {
      const reply = await handle.call(
        GreeterServiceService.sayHello,
        { name: `c${i}`, delayMs: i % 3 },
        { timeoutMs: 5_000 },
      );
      expect(reply.message).toBe(`hello c${i}`);
      ok++;
    }
    expect(ok).toBeGreaterThan(0);
    expect(tokensInUse(server)).toContain(tokenGroup("v2"));
    // The proxy reviewed the new token with the fake API.
    expect(kube.requests.tokenreviews).toBeGreaterThan(reviewsBefore);
    // The old session leaves once its replacement is registered.
    await expect.poll(() => tokensInUse(server), { timeout: 5_000 }).toEqual([tokenGroup("v2")]);

    // The old token is gone from the API: the plugin keeps reconnecting on
    // every max age with the new one, unrefused.
    kube.tokens.revoke("v1");
    const registeredAgain = new Promise<void>((resolve) => {
      const off = server.registry.on("registered", (event) => {
        if (event.session.name !== NAME) return;
        off();
        resolve();
      });
    });
    await registeredAgain;
    expect(tokensInUse(server)).toContain(tokenGroup("v2"));
    expect(refusals).toEqual([]);

    // Revoke the token in use and rewrite the file with it: the next
    // reconnect is refused, and the registry drops the plugin once its old
    // session has been cut.
    const refused = nextRefusal(plugin);
    const unauthenticatedBefore = proxy.stats.unauthenticated;
    kube.tokens.revoke("v2");
    await env.writeToken("v2");
    const refusal = await refused;
    expect(refusal.code).toBe(status.UNAUTHENTICATED);
    expect(proxy.stats.unauthenticated).toBeGreaterThan(unauthenticatedBefore);
    await expect.poll(() => server.registry.has(NAME), { timeout: 5_000 }).toBe(false);
  });

  it("refuses an expired token at reconnect with UNAUTHENTICATED and drops the plugin after its session ends", async () => {
    env = await startEnv();
    const { server, clock } = env;
    env.addToken("short-lived", new Date(clock.now + 60_000));
    await env.writeToken("short-lived");
    const plugin = env.connect();
    await plugin.registered();
    expect(tokensInUse(server)).toEqual([tokenGroup("short-lived")]);

    // The token expires while its stream is open: nothing happens until the
    // stream reaches its maximum age and the plugin has to authenticate again.
    const refused = nextRefusal(plugin);
    clock.now += 120_000;
    const refusal = await refused;
    expect(refusal.code).toBe(status.UNAUTHENTICATED);
    await expect.poll(() => server.registry.has(NAME), { timeout: 5_000 }).toBe(false);

    // A fresh token in the file lets it back in.
    env.addToken("renewed");
    await env.writeToken("renewed");
    await server.registry.waitFor(NAME, { timeoutMs: 5_000 });
    expect(tokensInUse(server)).toEqual([tokenGroup("renewed")]);
  });
});
