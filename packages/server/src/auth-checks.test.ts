import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import {
  allowAllNames,
  noAuthenticator,
  proxyHeaderAuthenticator,
} from "@operator-plugin-framework/auth/operator";
import { quietLogger } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { isLoopbackHost } from "./auth-checks.js";
import { createPluginServer } from "./plugin-server.js";

const quiet = quietLogger;

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])(
    "accepts %s",
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
    },
  );
  it.each(["0.0.0.0", "::", "10.1.2.3", "::ffff:10.1.2.3", "fd00::1", "localhost", "operator.svc"])(
    "refuses %s",
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});

describe("createPluginServer with proxyHeaderAuthenticator", () => {
  it.each(["0.0.0.0:9443", "[::]:9443", "10.1.2.3:9443", "operator.example:9443", "localhost:9443"])(
    "refuses to start on %s, naming the risk and the escape hatch",
    (listen) => {
      expect(() =>
        createPluginServer({
          listen,
          authenticator: proxyHeaderAuthenticator(),
          authorizeName: allowAllNames(),
        }),
      ).toThrow(
        expect.objectContaining({
          code: status.INVALID_ARGUMENT,
          message: expect.stringMatching(
            /refusing to listen on .*x-remote-user and x-remote-groups.*forge.*127\.0\.0\.1:PORT.*trustProxyHeadersFrom/,
          ),
        }),
      );
    },
  );

  it("refuses when one of several addresses is exposed", () => {
    expect(() =>
      createPluginServer({
        listen: ["127.0.0.1:0", "0.0.0.0:0"],
        authenticator: proxyHeaderAuthenticator(),
        authorizeName: allowAllNames(),
      }),
    ).toThrow(/refusing to listen on 0\.0\.0\.0:0 /);
  });

  it("starts on loopback and unix sockets", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opf-auth-checks-"));
    try {
      await using server = createPluginServer({
        listen: ["127.0.0.1:0", "[::1]:0", `unix://${join(dir, "plugins.sock")}`],
        authenticator: proxyHeaderAuthenticator(),
        authorizeName: allowAllNames(),
        logger: quiet,
      });
      expect(await server.ready()).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("accepts any address once trustProxyHeadersFrom names the proxy", async () => {
    // Not started: the check runs at creation, and tests listen on loopback only.
    await using server = createPluginServer({
      listen: "0.0.0.0:0",
      authenticator: proxyHeaderAuthenticator({ trustProxyHeadersFrom: ["10.0.0.5"] }),
      authorizeName: allowAllNames(),
      logger: quiet,
    });
    expect(server.addresses).toEqual([]);
  });
});

describe("createPluginServer with an authenticator and no name policy", () => {
  it("refuses to start, saying how to choose one", () => {
    expect(() =>
      createPluginServer({
        listen: "127.0.0.1:0",
        authenticator: { mode: "custom", authenticate: async () => ({ user: "a", groups: [] }) },
      }),
    ).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        message: expect.stringMatching(
          /custom authenticator is set but no authorizeName.*subjectAccessReviewNameAuthorizer.*allowAllNames\(\)/,
        ),
      }),
    );
    expect(() =>
      createPluginServer({
        listen: "127.0.0.1:0",
        authenticator: noAuthenticator({ logger: quiet }),
      }),
    ).toThrow(/no authorizeName/);
  });

  it('starts with allowAllNames() as the explicit opt-out, and with "none" needs no policy', async () => {
    for (const options of [
      { authenticator: proxyHeaderAuthenticator(), authorizeName: allowAllNames() },
      { authenticator: "none" as const },
    ]) {
      await using server = createPluginServer({ listen: "127.0.0.1:0", logger: quiet, ...options });
      expect(await server.ready()).toHaveLength(1);
    }
  });
});
