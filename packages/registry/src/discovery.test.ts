import { getEventListeners } from "node:events";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { EchoService, FakeSession } from "./fake-session.test-support.js";
import { addSession, createPluginRegistry, type PluginRegistry } from "./registry.js";

const DNS = "dns.v1.DnsProvider";
const ids = (sessions: readonly { id: string }[]) => sessions.map((session) => session.id);

/** aws at 1.4.0 (eu) and 1.5.0 (us), gcp at 2.1.0 (eu), azure at "latest": all serve DNS. */
function fleet(): PluginRegistry {
  const registry = createPluginRegistry();
  addSession(
    registry,
    new FakeSession("aws-1", "aws", { version: "1.4.0", labels: { region: "eu" }, services: [DNS] }),
  );
  addSession(
    registry,
    new FakeSession("aws-2", "aws", { version: "1.5.0", labels: { region: "us" }, services: [DNS] }),
  );
  addSession(
    registry,
    new FakeSession("gcp-1", "gcp", { version: "2.1.0", labels: { region: "eu" }, services: [DNS] }),
  );
  addSession(registry, new FakeSession("azure-1", "azure", { version: "latest", services: [DNS] }));
  addSession(registry, new FakeSession("echo-1", "echo", { version: "3.0.0", services: ["test.Echo"] }));
  return registry;
}

describe("registry.get(name, selector)", () => {
  it("covers only the sessions whose version is in the range and whose labels match", () => {
    const registry = fleet();
    expect(ids(registry.get("aws", { version: "^1.4.0" }).sessions)).toEqual(["aws-1", "aws-2"]);
    expect(ids(registry.get("aws", { version: "~1.4.0" }).sessions)).toEqual(["aws-1"]);
    expect(ids(registry.get("aws", { labels: { region: "us" } }).sessions)).toEqual(["aws-2"]);
    expect(ids(registry.get("aws", { version: ">=1.0.0", labels: { region: "eu" } }).sessions)).toEqual([
      "aws-1",
    ]);
  });

  it("sends calls only to matching sessions, including replicas that register later", async () => {
    const registry = fleet();
    const handle = registry.get("aws", { version: "^1.5.0" });
    const late = new FakeSession("aws-3", "aws", { version: "1.6.0" });
    addSession(registry, late);
    const facade = handle.service(EchoService);
    for (let i = 0; i < 4; i++) await facade.unary({ text: "hi" });
    const aws2 = registry.sessions().find((session) => session.id === "aws-2") as FakeSession;
    const aws1 = registry.sessions().find((session) => session.id === "aws-1") as FakeSession;
    expect(aws1.calls).toHaveLength(0);
    expect(aws2.calls.length + late.calls.length).toBe(4);
    expect(late.calls.length).toBeGreaterThan(0);
  });

  it("fails with NOT_FOUND naming the selector and the versions and labels registered", () => {
    expect(() => fleet().get("aws", { version: "^2.0.0", labels: { region: "eu" } })).toThrow(
      expect.objectContaining({
        code: status.NOT_FOUND,
        details:
          'plugin "aws" has no session at ^2.0.0 with labels region=eu; registered: ' +
          "aws@1.4.0 {region=eu}, aws@1.5.0 {region=us}, azure@latest (not semver, so it matches no version range), " +
          "echo@3.0.0, gcp@2.1.0 {region=eu}",
      }),
    );
  });

  it("never matches a version that is not semver with a range, and says why", () => {
    const registry = fleet();
    expect(ids(registry.get("azure").sessions)).toEqual(["azure-1"]);
    expect(() => registry.get("azure", { version: "*" })).toThrow(
      /plugin "azure" has no session at \*; registered: azure@latest \(not semver, so it matches no version range\)/,
    );
  });

  it("rejects a version that is not a range with INVALID_ARGUMENT", () => {
    expect(() => fleet().get("aws", { version: "newest" })).toThrow(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details:
          'version "newest" is not a semver range; use one such as "^1.2.0", ">=1.2.0 <2.0.0" or "1.4.x"',
      }),
    );
  });

  it("shows the labels every session of the handle shares", () => {
    const registry = createPluginRegistry();
    addSession(registry, new FakeSession("a", "aws", { labels: { region: "eu", tier: "gold", zone: "a" } }));
    addSession(registry, new FakeSession("b", "aws", { labels: { region: "eu", tier: "gold", zone: "b" } }));
    expect(registry.get("aws").labels).toEqual({ region: "eu", tier: "gold" });
    expect(registry.get("aws", { labels: { zone: "b" } }).labels).toEqual({
      region: "eu",
      tier: "gold",
      zone: "b",
    });
    expect(registry.get("aws").sessions[0]!.labels).toEqual({ region: "eu", tier: "gold", zone: "a" });
  });
});

describe("registry.byService()", () => {
  it("returns one handle per plugin that announced the service, by definition or by name", () => {
    const registry = fleet();
    expect(registry.byService(DNS).map((handle) => handle.name)).toEqual(["aws", "azure", "gcp"]);
    const [echo, ...rest] = registry.byService(EchoService);
    expect(rest).toEqual([]);
    expect(echo!.name).toBe("echo");
  });

  it("applies the version range and the label selector, per session", () => {
    const registry = fleet();
    const eu = registry.byService(DNS, { labels: { region: "eu" } });
    expect(eu.map((handle) => `${handle.name}: ${ids(handle.sessions)}`)).toEqual([
      "aws: aws-1",
      "gcp: gcp-1",
    ]);
    const v1 = registry.byService(DNS, { version: "^1.5.0" });
    expect(v1.map((handle) => `${handle.name}: ${ids(handle.sessions)}`)).toEqual(["aws: aws-2"]);
  });

  it("calls only the replicas that serve the service", async () => {
    const registry = createPluginRegistry();
    const old = new FakeSession("old", "echo", { services: [] });
    const fresh = new FakeSession("new", "echo", { services: ["test.Echo"] });
    addSession(registry, old);
    addSession(registry, fresh);
    const [handle] = registry.byService(EchoService);
    for (let i = 0; i < 3; i++) await handle!.service(EchoService).unary({ text: "hi" });
    expect([old.calls.length, fresh.calls.length]).toEqual([0, 3]);
  });

  it("fails with NOT_FOUND naming the service, the range and what serves what", () => {
    expect(() => fleet().byService(DNS, { version: "^2.2.0" })).toThrow(
      expect.objectContaining({
        code: status.NOT_FOUND,
        details:
          "no plugin serves dns.v1.DnsProvider at ^2.2.0; registered: " +
          "aws@1.4.0 {region=eu} (dns.v1.DnsProvider), aws@1.5.0 {region=us} (dns.v1.DnsProvider), " +
          "azure@latest (not semver, so it matches no version range) (dns.v1.DnsProvider), " +
          "gcp@2.1.0 {region=eu} (dns.v1.DnsProvider), echo@3.0.0 (test.Echo)",
      }),
    );
    expect(() => createPluginRegistry().byService(DNS)).toThrow(
      "no plugin serves dns.v1.DnsProvider; registered: (none)",
    );
  });

  it("refuses a definition that names no service", () => {
    expect(() => fleet().byService({})).toThrow(/no methods names no service/);
  });
});

describe("registry.waitFor(name, selector)", () => {
  it("waits for a session that matches, not just any session of the name", async () => {
    const registry = fleet();
    const waiting = registry.waitFor("aws", { version: "^2.0.0" });
    let resolved = false;
    void waiting.then(() => {
      resolved = true;
    });
    addSession(registry, new FakeSession("aws-old", "aws", { version: "1.9.0" }));
    await Promise.resolve();
    expect(resolved).toBe(false);
    addSession(registry, new FakeSession("aws-new", "aws", { version: "2.0.1" }));
    expect(ids((await waiting).sessions)).toEqual(["aws-new"]);
  });

  it("times out listing the versions registered, and leaves no listener", async () => {
    const registry = fleet();
    const controller = new AbortController();
    const err = await registry
      .waitFor("aws", { version: "^3.0.0", timeoutMs: 5, signal: controller.signal })
      .catch((reason: unknown) => reason);
    expect(err).toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: expect.stringMatching(
        /^plugin "aws" at \^3\.0\.0 did not register within 5 ms; registered: aws@1\.4\.0 \{region=eu\}, aws@1\.5\.0/,
      ),
    });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("rejects a version that is not a range", async () => {
    await expect(fleet().waitFor("aws", { version: "x.y" })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });
});
