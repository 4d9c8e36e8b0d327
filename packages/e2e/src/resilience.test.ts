import { status } from "@grpc/grpc-js";
import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer } from "@operator-plugin-framework/server";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { killProcess, spawnPlugin } from "./fixtures/spawn-plugin.js";
import { createGreeter } from "./greeter-impl.js";

const hello = GreeterServiceService.sayHello;

describe("replicas of one plugin", () => {
  it("spreads calls across replicas and fails over when one is killed", async () => {
    await using server = await startTestServer();
    const first = await spawnPlugin(server.target, "pool");
    const second = await spawnPlugin(server.target, "pool");
    try {
      const handle = server.registry.get("pool");
      expect(handle.sessions).toHaveLength(2);
      const servedBy = new Set<string>();
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => handle.call(hello, { name: `n${i}`, delayMs: 5 })),
      );
      for (const reply of replies) servedBy.add(reply.servedBy);
      expect(servedBy.size).toBe(2);

      const stop = new AbortController();
      let rejected = 0;
      const codes = new Set<number>();
      for (let i = 0; i < 50; i++) {
        handle
          .call(hello, { name: "long", delayMs: 60_000 }, { timeoutMs: 60_000, signal: stop.signal })
          .catch((err) => {
            rejected++;
            codes.add(err.code);
          });
      }
      await expect.poll(() => handle.sessions.reduce((n, s) => n + s.inFlight, 0)).toBe(50);
      const before = new Map(handle.sessions.map((s) => [s.id, s.inFlight]));
      const killedAt = Date.now();
      await killProcess(first);
      await expect.poll(() => handle.sessions.length).toBe(1);
      const survivor = handle.sessions[0]!;
      const onKilled = 50 - before.get(survivor.id)!;
      expect(onKilled).toBeGreaterThan(0);
      await expect.poll(() => rejected).toBe(onKilled);
      expect(Date.now() - killedAt).toBeLessThan(1_000);
      expect([...codes]).toEqual([status.UNAVAILABLE]);
      expect(survivor.inFlight).toBe(50 - onKilled);
      // The survivor takes new calls at once; the killed replica's entry alone is gone.
      expect(handle.sessions).toHaveLength(1);
      const after = await handle.call(hello, { name: "after", delayMs: 0 }, { timeoutMs: 5_000 });
      expect(after.servedBy).toBe(`pid-${second.pid}`);
      stop.abort();
    } finally {
      await killProcess(first);
      await killProcess(second);
    }
  });

  it("pins calls with the same affinity key to one replica", async () => {
    await using server = await startTestServer();
    const a = await startTestPlugin({
      name: "sticky",
      target: server.target,
      services: [[GreeterServiceService, createGreeter("a").impl]],
    });
    const b = await startTestPlugin({
      name: "sticky",
      target: server.target,
      services: [[GreeterServiceService, createGreeter("b").impl]],
    });
    const greeter = server.registry.get("sticky").service(GreeterServiceService, { affinityKey: "tenant-7" });
    const served = new Set<string>();
    for (let i = 0; i < 20; i++) served.add((await greeter.sayHello({ name: "x", delayMs: 0 })).servedBy);
    expect(served.size).toBe(1);
    await a.close();
    await b.close();
  });
});

describe("operator restarts", () => {
  it("a plugin registers again on its own within 3 s of the operator listening again", async () => {
    const first = await startTestServer();
    const address = first.target.replace("http://", "");
    const plugin = await startTestPlugin({
      name: "phoenix",
      target: first.target,
      services: [[GreeterServiceService, createGreeter("p").impl]],
      backoff: { initialMs: 50, maxMs: 500 },
    });
    await first.close();
    await expect.poll(() => plugin.isRegistered).toBe(false);
    const second = createPluginServer({ listen: address, authenticator: "none" });
    const running = second.start();
    await second.ready();
    const listeningAt = Date.now();
    await second.registry.waitFor("phoenix", { timeoutMs: 3_000 });
    expect(Date.now() - listeningAt).toBeLessThan(3_000);
    expect((await second.registry.get("phoenix").call(hello, { name: "again", delayMs: 0 })).message).toBe(
      "hello again",
    );
    await plugin.close();
    await second.stop();
    await running;
  });

  it("a graceful stop lets in-flight calls finish and moves plugins to the other operator replica", async () => {
    await using replicaA = await startTestServer({ drainGraceMs: 5_000 });
    await using replicaB = await startTestServer();
    const plugin = connectPlugin({
      name: "mover",
      target: [replicaA.target, replicaB.target],
      services: [[GreeterServiceService, createGreeter("m").impl]],
      backoff: { initialMs: 20, maxMs: 200 },
    });
    await replicaA.registry.waitFor("mover", { timeoutMs: 5_000 });
    await replicaB.registry.waitFor("mover", { timeoutMs: 5_000 });
    const slow = replicaA.registry
      .get("mover")
      .call(hello, { name: "finishing", delayMs: 300 }, { timeoutMs: 10_000 });
    await expect.poll(() => replicaA.registry.get("mover").sessions[0]?.inFlight).toBe(1);
    const stopping = replicaA.server.stop();
    expect((await slow).message).toBe("hello finishing");
    await stopping;
    expect(replicaA.registry.has("mover")).toBe(false);
    // The other replica had the plugin all along: no reconnection needed there.
    expect((await replicaB.registry.get("mover").call(hello, { name: "b", delayMs: 0 })).message).toBe(
      "hello b",
    );
    await plugin.close();
  });
});

describe("liveness", () => {
  it("fails the calls of a frozen plugin (SIGSTOP) with UNAVAILABLE within the keepalive timeout", async () => {
    await using server = await startTestServer({ keepalive: { intervalMs: 200, timeoutMs: 400 } });
    const child = await spawnPlugin(server.target, "frozen");
    try {
      const handle = server.registry.get("frozen");
      const call = handle.call(hello, { name: "x", delayMs: 60_000 }, { timeoutMs: 60_000 });
      await expect.poll(() => handle.sessions[0]?.inFlight).toBe(1);
      child.kill("SIGSTOP");
      const frozenAt = Date.now();
      await expect(call).rejects.toMatchObject({ code: status.UNAVAILABLE });
      // interval + timeout, plus scheduling slack on a loaded machine
      expect(Date.now() - frozenAt).toBeLessThan(2_000);
      expect(server.registry.has("frozen")).toBe(false);
    } finally {
      child.kill("SIGCONT");
      await killProcess(child);
    }
  });
});

describe("several operator addresses", () => {
  it("keeps one session per resolved address and follows address changes", async () => {
    await using a = await startTestServer();
    await using b = await startTestServer();
    const portOf = (target: string) => target.split(":").pop()!;
    // Both servers listen on 127.0.0.1 with different ports; a resolver stands in
    // for a headless Service by mapping names to loopback addresses per port.
    expect(portOf(a.target)).not.toBe(portOf(b.target));
    let addresses = ["127.0.0.1"];
    const plugin = connectPlugin({
      name: "multi",
      target: [
        `dns+http://operator.test:${portOf(a.target)}`,
        `dns+http://operator.test:${portOf(b.target)}`,
      ],
      services: [[GreeterServiceService, createGreeter("x").impl]],
      resolve: async () => addresses,
      resolveIntervalMs: 50,
    });
    await a.registry.waitFor("multi", { timeoutMs: 5_000 });
    await b.registry.waitFor("multi", { timeoutMs: 5_000 });
    expect(plugin.states.size).toBe(2);
    addresses = ["127.0.0.2"];
    // Both targets' old addresses leave (one resolution pass handles the targets in turn).
    await expect.poll(() => a.registry.has("multi") || b.registry.has("multi")).toBe(false);
    await expect.poll(() => [...plugin.states.keys()].every((k) => k.startsWith("127.0.0.2"))).toBe(true);
    await plugin.close();
  });
});
