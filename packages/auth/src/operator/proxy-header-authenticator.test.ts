import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { proxyHeaderAuthenticator } from "./index.js";

const context = (headers: Record<string, string | string[] | undefined>) => ({
  headers,
  peer: "127.0.0.1:40000",
  path: "/pluginframework.v1.PluginFrameworkService/PluginStream",
});

describe("proxyHeaderAuthenticator", () => {
  it("reads the user and |-separated groups kube-rbac-proxy forwards", async () => {
    const identity = await proxyHeaderAuthenticator().authenticate(
      context({
        "x-remote-user": "system:serviceaccount:plugins:aws",
        "x-remote-groups": "system:serviceaccounts|system:serviceaccounts:plugins|system:authenticated",
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
    await expect(authenticator.authenticate(context({ authorization: "Bearer x" }))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
      message: expect.stringMatching(/x-remote-user.*--auth-header-fields-enabled/),
    });
    await expect(authenticator.authenticate(context({ "x-remote-user": " " }))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });

  it("refuses conflicting user headers", async () => {
    await expect(
      proxyHeaderAuthenticator().authenticate(context({ "x-remote-user": ["alice", "bob"] })),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("uses configured header names and separator, case-insensitively", async () => {
    const authenticator = proxyHeaderAuthenticator({
      userHeader: "X-Forwarded-User",
      groupsHeader: "X-Forwarded-Groups",
      groupSeparator: ",",
    });
    expect(authenticator.mode).toBe("proxy-headers");
    const identity = await authenticator.authenticate(
      context({
        "x-forwarded-user": "alice",
        "x-forwarded-groups": ["a,b", "c"],
        "x-remote-user": "mallory",
      }),
    );
    expect(identity).toEqual({ user: "alice", groups: ["a", "b", "c"] });
  });
});
