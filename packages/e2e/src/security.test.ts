import { status } from "@grpc/grpc-js";
import {
  allowAllNames,
  proxyHeaderAuthenticator,
  subjectAccessReviewNameAuthorizer,
  tokenReviewAuthenticator,
} from "@operator-plugin-framework/auth/operator";
import {
  type ConnectionState,
  connectPlugin,
  type PluginConnection,
} from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { startFakeKubeApi } from "@operator-plugin-framework/testkit/kube";
import { startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const AUDIENCE = "operator-plugin-framework";
const sa = (name: string) => `system:serviceaccount:plugins:${name}`;

type Kube = Awaited<ReturnType<typeof startFakeKubeApi>>;

/** Waits for the first refusal a connection reports. */
function firstRefusal(connection: PluginConnection): Promise<{ code: status; details: string }> {
  return new Promise((resolve) => {
    const off = connection.onState((state: ConnectionState) => {
      if (state.state === "rejected" || state.state === "reconnecting") {
        off();
        resolve({ code: state.code, details: state.details });
      }
    });
  });
}

function configureKube(kube: Kube): void {
  kube.tokens.set("aws-token", {
    user: sa("aws"),
    groups: ["system:serviceaccounts", "system:authenticated"],
    audiences: [AUDIENCE],
  });
  kube.tokens.set("gcp-token", { user: sa("gcp"), groups: ["system:authenticated"], audiences: [AUDIENCE] });
  kube.tokens.set("nostream-token", {
    user: sa("nostream"),
    groups: ["system:authenticated"],
    audiences: [AUDIENCE],
  });
  kube.tokens.set("wrong-audience-token", { user: sa("aws"), audiences: ["somebody-else"] });
  kube.tokens.set("expired-token", {
    user: sa("aws"),
    audiences: [AUDIENCE],
    expiresAt: new Date(Date.now() - 1_000),
  });
  for (const name of ["aws", "gcp"]) {
    kube.rules.allow({ user: sa(name), nonResourceAttributes: { path: PLUGIN_STREAM_PATH, verb: "create" } });
  }
  kube.rules.allow({
    user: sa("nostream"),
    resourceAttributes: { group: "pluginframework.io", resource: "plugins", verb: "register", name: "aws" },
  });
  kube.rules.allow({
    user: sa("aws"),
    resourceAttributes: { group: "pluginframework.io", resource: "plugins", verb: "register", name: "aws" },
  });
  kube.rules.allow({
    user: sa("gcp"),
    resourceAttributes: { group: "pluginframework.io", resource: "plugins", verb: "register", name: "gcp" },
  });
}

interface Mode {
  name: string;
  setup(kube: Kube): Promise<{ server: TestServer; target: string; ca: string; close(): Promise<void> }>;
}

const modes: Mode[] = [
  {
    name: "behind the fake kube-rbac-proxy (identity headers)",
    async setup(kube) {
      const certs = await createTestCertificates();
      const server = await startTestServer({
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
      return {
        server,
        target: proxy.url,
        ca: certs.ca.cert,
        close: async () => {
          await proxy.close();
          await server.close();
        },
      };
    },
  },
  {
    name: "in-process TokenReview and SubjectAccessReview over the server's own TLS",
    async setup(kube) {
      const certs = await createTestCertificates();
      const server = await startTestServer({
        tls: certs.server,
        authenticator: tokenReviewAuthenticator({ kubeConfig: kube.kubeConfig(), audiences: [AUDIENCE] }),
        authorizeName: subjectAccessReviewNameAuthorizer({ kubeConfig: kube.kubeConfig() }),
      });
      return {
        server,
        target: server.target.replace("http://", "https://"),
        ca: certs.ca.cert,
        close: () => server.close(),
      };
    },
  },
];

for (const mode of modes) {
  describe(`security matrix: ${mode.name}`, () => {
    let kube: Kube;
    let env: Awaited<ReturnType<Mode["setup"]>>;
    const connections: PluginConnection[] = [];
    const connect = (name: string, token: string | undefined, headers?: Record<string, string>) => {
      const connection = connectPlugin({
        name,
        target: env.target,
        tls: { ca: env.ca },
        ...(token === undefined ? {} : { token }),
        headers,
        services: [[GreeterServiceService, createGreeter(name).impl]],
        backoff: { initialMs: 1_000, maxMs: 1_000 },
      });
      connections.push(connection);
      return connection;
    };

    beforeAll(async () => {
      kube = await startFakeKubeApi();
      configureKube(kube);
      env = await mode.setup(kube);
    });
    afterAll(async () => {
      await Promise.all(connections.map((c) => c.close()));
      await env.close();
      await kube.close();
    });

    const refusals: [string, string | undefined, status][] = [
      ["no token", undefined, status.UNAUTHENTICATED],
      ["a malformed token", "not a token at all", status.UNAUTHENTICATED],
      ["an unknown token", "who-knows", status.UNAUTHENTICATED],
      ["a token for another audience", "wrong-audience-token", status.UNAUTHENTICATED],
      ["an expired token", "expired-token", status.UNAUTHENTICATED],
      ["a valid token without the stream permission", "nostream-token", status.PERMISSION_DENIED],
    ];
    for (const [what, token, code] of refusals) {
      it(`refuses ${what} with ${status[code]}`, async () => {
        const refusal = await firstRefusal(connect("aws", token));
        expect(refusal.code).toBe(code);
        // Through the proxy the refusal is a plain HTTP status; the plugin says what to check instead.
        expect(refusal.details).not.toMatch(/Received HTTP status code/);
        if (mode.name.startsWith("behind")) {
          expect(refusal.details).toMatch(
            code === status.UNAUTHENTICATED
              ? /refused the plugin's token \(HTTP 401\): check that the token file holds a current ServiceAccount token/
              : /denied the plugin stream \(HTTP 403\): the plugin's ServiceAccount needs RBAC for verb "create"/,
          );
        }
        expect(env.server.registry.has("aws")).toBe(false);
      });
    }

    it("refuses a name the identity is not granted with PERMISSION_DENIED and registers nothing", async () => {
      const refusal = await firstRefusal(connect("aws", "gcp-token"));
      expect(refusal.code).toBe(status.PERMISSION_DENIED);
      expect(refusal.details).toMatch(/may not register plugins.pluginframework.io "aws"/);
      expect(env.server.registry.has("aws")).toBe(false);
    });

    it("admits a valid plugin with its identity in the registry; a spoofed x-remote-user is not believed", async () => {
      const plugin = connect("aws", "aws-token", {
        "x-remote-user": sa("gcp"),
        "x-remote-groups": "system:masters",
      });
      await plugin.registered();
      const [session] = env.server.registry.get("aws").sessions;
      expect(session!.identity).toMatchObject({
        user: sa("aws"),
        serviceAccount: { namespace: "plugins", name: "aws" },
      });
      expect(session!.identity!.groups).not.toContain("system:masters");
      const reply = await env.server.registry
        .get("aws")
        .call(GreeterServiceService.sayHello, { name: "secure", delayMs: 0 });
      expect(reply.message).toBe("hello secure");
    });

    it("does not let a second plugin with another ServiceAccount take over a registered name", async () => {
      await env.server.registry.waitFor("aws", { timeoutMs: 5_000 });
      const refusal = await firstRefusal(connect("aws", "gcp-token"));
      expect(refusal.code).toBe(status.PERMISSION_DENIED);
      expect(env.server.registry.get("aws").sessions.every((s) => s.identity?.user === sa("aws"))).toBe(true);
    });
  });
}

describe("a server that does not trust proxy headers", () => {
  it("ignores a spoofed x-remote-user sent straight to it", async () => {
    const kube = await startFakeKubeApi();
    configureKube(kube);
    const certs = await createTestCertificates();
    await using server = await startTestServer({
      tls: certs.server,
      authenticator: tokenReviewAuthenticator({ kubeConfig: kube.kubeConfig(), audiences: [AUDIENCE] }),
      authorizeName: allowAllNames(),
    });
    const plugin = connectPlugin({
      name: "gcp",
      target: server.target.replace("http://", "https://"),
      tls: { ca: certs.ca.cert },
      token: "gcp-token",
      headers: { "x-remote-user": "system:admin" },
      services: [[GreeterServiceService, createGreeter("gcp").impl]],
    });
    await plugin.registered();
    expect(server.registry.get("gcp").sessions[0]!.identity!.user).toBe(sa("gcp"));
    await plugin.close();
    await kube.close();
  });
});
