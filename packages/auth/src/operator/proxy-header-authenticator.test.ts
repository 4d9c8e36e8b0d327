import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { proxyHeaderAuthenticator } from "./index.js";

const context = (headers: Record<string, string[]>, peer = "127.0.0.1:40000") => ({
  headers,
  peer,
  path: "/pluginframework.v1.PluginFrameworkService/PluginStream",
});

describe("proxyHeaderAuthenticator", () => {
  it("reads the user and |-separated groups kube-rbac-proxy forwards", async () => {
    const identity = await proxyHeaderAuthenticator().authenticate(
      context({
        "x-remote-user": ["system:serviceaccount:plugins:aws"],
        "x-remote-groups": ["system:serviceaccounts|system:serviceaccounts:plugins|system:authenticated"],
      }),
    );
    expect(identity).toEqual({
      user: "system:serviceaccount:plugins:aws",
      groups: ["system:serviceaccounts", "system:serviceaccounts:plugins", "system:authenticated"],
      serviceAccount: { namespace: "plugins", name: "aws" },
    });
  });

  it("refuses a stream without the user header with UNAUTHENTICATED", async () => {
    const authenticator = proxyHeaderAuthenticator();
    await expect(authenticator.authenticate(context({ authorization: ["Bearer x"] }))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      message: expect.stringMatching(/x-remote-user.*--auth-header-fields-enabled/),
    });
    await expect(authenticator.authenticate(context({ "x-remote-user": [" "] }))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });

  it.each([
    ["two user headers", { "x-remote-user": ["alice", "mallory"] }, /2 x-remote-user headers/],
    ["the same user twice", { "x-remote-user": ["alice", "alice"] }, /2 x-remote-user headers/],
    [
      "two groups headers",
      { "x-remote-user": ["alice"], "x-remote-groups": ["devs", "system:masters"] },
      /2 x-remote-groups headers/,
    ],
  ])("refuses %s with UNAUTHENTICATED: the proxy sends each once", async (_what, headers, message) => {
    await expect(proxyHeaderAuthenticator().authenticate(context(headers))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      message: expect.stringMatching(message),
    });
  });

  it.each([
    ["a control character", "alice\u0000admin", /control or unprintable/],
    ["a bidi override", "alice\u202egnp.exe", /control or unprintable/],
    ["an over-long name", "a".repeat(1025), /longer than 1024/],
  ])("refuses a user with %s, without echoing it", async (_what, user, message) => {
    const error = await proxyHeaderAuthenticator()
      .authenticate(context({ "x-remote-user": [user] }))
      .catch((err: unknown) => err as { code: number; message: string });
    expect(error).toMatchObject({ code: status.UNAUTHENTICATED, message: expect.stringMatching(message) });
    expect((error as { message: string }).message).not.toContain(user);
  });

  it("refuses unprintable groups and more than 256 groups", async () => {
    const authenticator = proxyHeaderAuthenticator();
    await expect(
      authenticator.authenticate(context({ "x-remote-user": ["alice"], "x-remote-groups": ["a|b\u0007"] })),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED, message: expect.stringMatching(/a group/) });
    const many = Array.from({ length: 257 }, (_, i) => `g${i}`).join("|");
    await expect(
      authenticator.authenticate(context({ "x-remote-user": ["alice"], "x-remote-groups": [many] })),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED, message: expect.stringMatching(/256 groups/) });
  });

  it("uses configured header names and separator, case-insensitively", async () => {
    const authenticator = proxyHeaderAuthenticator({
      userHeader: "X-Forwarded-User",
      groupsHeader: "X-Forwarded-Groups",
      groupSeparator: ",",
    });
    expect(authenticator.mode).toBe("proxy-headers");
    expect(authenticator.trustsPeerHeaders?.headers).toEqual(["x-forwarded-user", "x-forwarded-groups"]);
    const identity = await authenticator.authenticate(
      context({
        "x-forwarded-user": ["alice"],
        "x-forwarded-groups": ["a,b,c"],
        "x-remote-user": ["mallory"],
      }),
    );
    expect(identity).toEqual({ user: "alice", groups: ["a", "b", "c"] });
  });

  describe("peers", () => {
    const alice = { "x-remote-user": ["alice"] };

    it.each([
      "127.0.0.1:5000",
      "127.8.9.10:5000",
      "::1:5000",
      "[::1]:5000",
      "::ffff:127.0.0.1:5000",
      "unknown",
    ])("believes loopback and unix-socket peers by default (%s)", async (peer) => {
      await expect(proxyHeaderAuthenticator().authenticate(context(alice, peer))).resolves.toMatchObject({
        user: "alice",
      });
    });

    it.each(["10.0.0.5:5000", "::ffff:10.0.0.5:5000", "fd00::1:5000", "garbage"])(
      "refuses any other peer by default (%s) with UNAUTHENTICATED",
      async (peer) => {
        await expect(proxyHeaderAuthenticator().authenticate(context(alice, peer))).rejects.toMatchObject({
          code: status.UNAUTHENTICATED,
          message: expect.stringMatching(/not trusted.*trustProxyHeadersFrom/),
        });
      },
    );

    it("believes the addresses and ranges in trustProxyHeadersFrom, and only those", async () => {
      const authenticator = proxyHeaderAuthenticator({ trustProxyHeadersFrom: ["10.0.0.5", "fd00::/64"] });
      expect(authenticator.trustsPeerHeaders?.trustedFrom).toEqual(["10.0.0.5", "fd00::/64"]);
      for (const peer of ["10.0.0.5:5000", "::ffff:10.0.0.5:5000", "fd00::1:5000", "127.0.0.1:1"]) {
        await expect(authenticator.authenticate(context(alice, peer))).resolves.toMatchObject({
          user: "alice",
        });
      }
      await expect(authenticator.authenticate(context(alice, "10.0.0.6:5000"))).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });
    });

    it.each(["10.0.0", "10.0.0.0/33", "proxy.local", "10.0.0.0/8/1", "10.0.0.0/x"])(
      "refuses to be created with a trustProxyHeadersFrom entry that is not an address or range (%s)",
      (entry) => {
        expect(() => proxyHeaderAuthenticator({ trustProxyHeadersFrom: [entry] })).toThrow(
          expect.objectContaining({ code: status.INVALID_ARGUMENT, message: expect.stringContaining(entry) }),
        );
      },
    );
  });
});
