import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { describe, expect, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import { dialTarget, parseTarget } from "./target.js";
import { noopGreeter } from "./test-support/noop-greeter.js";

describe("parseTarget", () => {
  it("reads https, http, unix and dns+ targets", () => {
    expect(parseTarget("https://operator.ns.svc:8443")).toMatchObject({
      grpcTarget: "operator.ns.svc:8443",
      tls: true,
      local: false,
      resolveAll: false,
    });
    expect(parseTarget("http://127.0.0.1:9443")).toMatchObject({
      grpcTarget: "127.0.0.1:9443",
      tls: false,
      local: true,
    });
    expect(parseTarget("http://[::1]:9443")).toMatchObject({
      grpcTarget: "[::1]:9443",
      host: "::1",
      local: true,
    });
    expect(parseTarget("unix:///run/plugins.sock")).toMatchObject({
      grpcTarget: "unix:///run/plugins.sock",
      local: true,
    });
    expect(parseTarget("dns+https://operator-headless:8443")).toMatchObject({
      host: "operator-headless",
      port: "8443",
      tls: true,
      resolveAll: true,
    });
    expect(parseTarget("https://operator")).toMatchObject({ grpcTarget: "operator:443" });
  });

  it("refuses anything else with INVALID_ARGUMENT saying what is accepted", () => {
    for (const bad of ["operator:8443", "ftp://x:1", "unix:relative.sock", "https://x:1/path"]) {
      expect(() => parseTarget(bad)).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT }));
    }
    expect(() => parseTarget("not a url")).toThrow(
      'invalid target "not a url": use "https://host:port", "http://host:port" or "unix:///path"',
    );
    expect(() => parseTarget("ftp://x:1")).toThrow('invalid target "ftp://x:1": unsupported scheme ftp:');
    expect(() => parseTarget("unix://run.sock")).toThrow("a unix target needs an absolute path");
  });

  it("defaults the port by scheme, keeps IPv6 brackets for dns+ and knows loopback names", () => {
    expect(parseTarget("http://operator")).toMatchObject({
      grpcTarget: "operator:80",
      tls: false,
      local: false,
    });
    expect(parseTarget("dns+http://[::1]:9443")).toMatchObject({
      host: "::1",
      port: "9443",
      resolveAll: true,
    });
    expect(parseTarget("https://localhost:8443")).toMatchObject({ local: true, tls: true });
  });

  it("refuses an empty target list", () => {
    expect(() => connectPlugin({ name: "aws", target: [], services: [] })).toThrow(
      expect.objectContaining({ code: status.INVALID_ARGUMENT }),
    );
  });
});

describe("dialTarget", () => {
  it("sends address literals to grpc-js's IP resolver, names and sockets as they are", () => {
    expect(dialTarget(parseTarget("http://127.0.0.1:9443").grpcTarget)).toBe("ipv4:127.0.0.1:9443");
    expect(dialTarget(parseTarget("https://[::1]:8443").grpcTarget)).toBe("ipv6:[::1]:8443");
    expect(dialTarget(parseTarget("https://operator.ns.svc:8443").grpcTarget)).toBe("operator.ns.svc:8443");
    expect(dialTarget(parseTarget("unix:///run/op.sock").grpcTarget)).toBe("unix:///run/op.sock");
  });
});

describe("token transport", () => {
  const services = [[GreeterServiceService, noopGreeter]] as const;

  it("refuses to send a token over plaintext to a remote host", () => {
    expect(() =>
      connectPlugin({ name: "aws", target: "http://operator.invalid:9443", token: "secret", services }),
    ).toThrow(expect.objectContaining({ code: status.FAILED_PRECONDITION }));
  });

  it("never puts the token in the error", () => {
    try {
      connectPlugin({ name: "aws", target: "http://operator:9443", token: "very-secret-token", services });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain("very-secret-token");
      return;
    }
    throw new Error("expected a refusal");
  });

  it("allows loopback and an explicit opt-in", async () => {
    const local = connectPlugin({
      name: "aws",
      target: "http://127.0.0.1:1",
      token: "t",
      services,
      backoff: { initialMs: 1, maxMs: 1 },
    });
    const optIn = connectPlugin({
      name: "aws",
      target: "http://operator.invalid:9443",
      token: "t",
      allowInsecureToken: true,
      services,
    });
    await local.close();
    await optIn.close();
  });
});
