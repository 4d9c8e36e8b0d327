import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { assertTokenTransportAllowed, isLoopbackHost } from "./index.js";
import { targetHost } from "./transport-policy.js";

describe("assertTokenTransportAllowed", () => {
  it.each([
    "127.0.0.1:8443",
    "127.3.4.5:1",
    "localhost:50051",
    "[::1]:50051",
    "ipv4:127.0.0.1:9000",
    "ipv6:[::1]:9000",
    "dns:///localhost:9000",
    "http://127.0.0.1:8080",
    "unix:///var/run/operator.sock",
    "unix:relative.sock",
  ])("allows plaintext to the loopback or unix target %s", (target) => {
    expect(() => assertTokenTransportAllowed({ target, tls: false })).not.toThrow();
  });

  it.each([
    "operator.operator-system.svc:8443",
    "10.0.0.7:8443",
    "dns:///operator.ns.svc.cluster.local:443",
    "dns://10.0.0.10/operator:443",
    "ipv6:[2001:db8::1]:443",
    "http://operator.example.com",
    "128.0.0.1:1",
  ])("refuses plaintext to the remote target %s with FAILED_PRECONDITION", (target) => {
    expect(() => assertTokenTransportAllowed({ target, tls: false })).toThrow(
      expect.objectContaining({
        code: status.FAILED_PRECONDITION,
        message: expect.stringMatching(/enable TLS/),
      }),
    );
  });

  it("allows TLS to any host, and plaintext when explicitly allowed", () => {
    expect(() => assertTokenTransportAllowed({ target: "10.0.0.7:8443", tls: true })).not.toThrow();
    expect(() =>
      assertTokenTransportAllowed({ target: "10.0.0.7:8443", tls: false, allowInsecureToken: true }),
    ).not.toThrow();
  });
});

describe("isLoopbackHost and targetHost", () => {
  it("recognises loopback forms only", () => {
    expect(
      ["localhost", "127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1", "api.localhost"].map(isLoopbackHost),
    ).toEqual([true, true, true, true, true, true]);
    expect(
      ["0.0.0.0", "::", "10.0.0.1", "localhost.example.com", "::ffff:10.0.0.1"].map(isLoopbackHost),
    ).toEqual([false, false, false, false, false]);
  });

  it("extracts the host of gRPC targets and URLs", () => {
    expect(targetHost("dns:///svc.ns:443")).toBe("svc.ns");
    expect(targetHost("ipv4:10.0.0.1:5,10.0.0.2:5")).toBe("10.0.0.1");
    expect(targetHost("https://[::1]:8443/x")).toBe("[::1]");
    expect(targetHost("unix:///tmp/a.sock")).toBeUndefined();
    expect(targetHost("host")).toBe("host");
  });
});
