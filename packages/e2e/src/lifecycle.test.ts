import { getEventListeners, once } from "node:events";
import { createServer, connect as tcpConnect } from "node:net";
import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer, type PluginServer } from "@operator-plugin-framework/server";
import { startFakeKubeRbacProxy } from "@operator-plugin-framework/testkit/proxy";
import { createTestCertificates } from "@operator-plugin-framework/testkit/tls";
import { afterEach, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const hello = GreeterServiceService.sayHello;
const servers: PluginServer[] = [];

function newServer(listen = "127.0.0.1:0"): PluginServer {
  const server = createPluginServer({ listen, authenticator: "none", drainGraceMs: 500 });
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A port that was free a moment ago (the OS does not hand it out again at once). */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, "close");
  return port;
}

/** Resolves true when something accepts TCP connections on the port. */
async function accepts(port: number): Promise<boolean> {
  const socket = tcpConnect(port, "127.0.0.1");
  try {
    await once(socket, "connect");
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** Handles that keep the event loop alive, by type (sockets, servers, timers). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

// Immediates are left out: they are one-turn by nature and never leak on their own.
const WATCHED = ["TCPServerWrap", "TCPSocketWrap", "TLSWrap", "PipeWrap", "Timeout"];

function watched(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(WATCHED.map((type) => [type, counts[type] ?? 0]));
}

/**
 * No watched resource above the baseline. Equality would be flaky: a timer
 * another part of the process armed before the baseline may fire meanwhile,
 * and a leak shows as a count above it either way.
 */
function noneAbove(now: Record<string, number>, before: Record<string, number>): boolean {
  return WATCHED.every((type) => now[type]! <= before[type]!);
}

/**
 * The watched resources once `done` accepts them, or after 500 event-loop
 * turns. A closed handle is freed by libuv a turn or two after its close
 * event. Turns rather than a timer, since a timer would count itself (as
 * `expect.poll`'s does).
 */
async function settled(done: (now: Record<string, number>) => boolean): Promise<Record<string, number>> {
  for (let turn = 0; turn < 500; turn++) {
    if (done(watched(resources()))) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return watched(resources());
}

/** No test here keeps a socket between tests; one destroyed by the previous test closes a turn later. */
const baseline = () => settled((now) => now.TCPServerWrap! + now.TCPSocketWrap! + now.TLSWrap! === 0);

describe("plugin server lifecycle", () => {
  it("returns the same promise when started twice", async () => {
    const server = newServer();
    const first = server.start();
    expect(server.start()).toBe(first);
    await server.ready();
    expect(server.addresses).toHaveLength(1);
    await server.stop();
    await expect(first).resolves.toBeUndefined();
  });

  it("can be stopped twice, and concurrently", async () => {
    const server = newServer();
    const running = server.start();
    const [address] = await server.ready();
    const port = Number(address!.split(":").at(-1));
    const [a, b] = [server.stop(), server.stop()];
    expect(b).toBe(a);
    await Promise.all([a, b, running]);
    await expect(server.stop()).resolves.toBeUndefined();
    expect(await accepts(port)).toBe(false);
  });

  it("resolves stop() before start(), and a later start() resolves at once without listening", async () => {
    const port = await freePort();
    const server = newServer(`127.0.0.1:${port}`);
    await server.stop();
    await expect(server.start()).resolves.toBeUndefined();
    expect(server.addresses).toEqual([]);
    expect(await accepts(port)).toBe(false);
  });

  it("resolves ready() with no addresses once stopped before start, and never listens", async () => {
    const port = await freePort();
    const server = newServer(`127.0.0.1:${port}`);
    await server.stop();
    await expect(server.ready()).resolves.toEqual([]);
    expect(await accepts(port)).toBe(false);
  });

  it("stops when an `await using` block ends", async () => {
    let port = 0;
    let running: Promise<void> | undefined;
    {
      await using server = createPluginServer({ listen: "127.0.0.1:0", authenticator: "none" });
      running = server.start();
      const [address] = await server.ready();
      port = Number(address!.split(":").at(-1));
      expect(await accepts(port)).toBe(true);
    }
    await running;
    expect(await accepts(port)).toBe(false);
  });

  it("stops when its signal aborts, and start() resolves only then", async () => {
    const server = newServer();
    const controller = new AbortController();
    let settled = false;
    const running = server.start(controller.signal).then(() => {
      settled = true;
    });
    const [address] = await server.ready();
    const port = Number(address!.split(":").at(-1));
    expect(settled).toBe(false);
    controller.abort();
    await running;
    expect(await accepts(port)).toBe(false);
  });

  it("resolves start() with an already-aborted signal and is not listening afterwards", async () => {
    const port = await freePort();
    const server = newServer(`127.0.0.1:${port}`);
    const before = await baseline();
    await expect(server.start(AbortSignal.abort())).resolves.toBeUndefined();
    await expect(server.ready()).resolves.toEqual([]);
    // The listener's handle is closed but libuv frees it one loop turn after
    // grpc-js reports the server closed.
    expect(await settled((now) => noneAbove(now, before))).toSatisfy((now: Record<string, number>) =>
      noneAbove(now, before),
    );
    expect(await accepts(port)).toBe(false);
  });

  it("rejects start() and ready() when the address is taken, and releases everything", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const { port } = holder.address() as { port: number };
    try {
      const server = newServer(`127.0.0.1:${port}`);
      const running = server.start();
      await expect(server.ready()).rejects.toThrow();
      await expect(running).rejects.toThrow();
      await server.stop();
    } finally {
      holder.close();
      await once(holder, "close");
    }
  });

  it("releases every socket and timer of server, plugin and proxy once stopped", async () => {
    const certs = await createTestCertificates();
    // The operator's own signal: the server must take its abort listener back when it stops.
    const operatorSignal = new AbortController().signal;
    const measure = async () => {
      const server = newServer();
      const running = server.start(operatorSignal);
      const [address] = await server.ready();
      const proxy = await startFakeKubeRbacProxy({
        upstream: `http://${address}`,
        tls: certs.server,
        authenticate: async (token) => (token === "t" ? { user: "plugin", groups: [] } : undefined),
        authorize: async () => true,
      });
      const direct = connectPlugin({
        name: "direct",
        target: `http://${address}`,
        services: [[GreeterServiceService, createGreeter("direct").impl]],
        drainGraceMs: 500,
        backoff: { initialMs: 20, maxMs: 200 },
      });
      const proxied = connectPlugin({
        name: "proxied",
        target: proxy.url,
        token: "t",
        tls: { ca: certs.ca.cert },
        services: [[GreeterServiceService, createGreeter("proxied").impl]],
        drainGraceMs: 500,
        backoff: { initialMs: 20, maxMs: 200 },
      });
      await Promise.all([direct.registered(), proxied.registered()]);
      for (const name of ["direct", "proxied"]) {
        const reply = await server.registry.get(name).call(hello, { name, delayMs: 0 }, { timeoutMs: 5_000 });
        expect(reply.servedBy).toBe(name);
      }
      const during = watched(resources());
      await Promise.all([direct.close(), proxied.close()]);
      // A closed plugin keeps no session (grpc-js's own reconnect timers are unref'd, so counts alone would not tell).
      expect([direct.states.size, proxied.states.size]).toEqual([0, 0]);
      await proxy.close();
      await server.stop();
      await running;
      expect(getEventListeners(operatorSignal, "abort")).toHaveLength(0);
      return during;
    };
    // Warm up: module-level state (grpc-js, TLS contexts) is created once.
    await measure();
    const before = await baseline();
    const during = await measure();
    // Proves the measurement sees what the components open.
    expect(during.TCPServerWrap).toBeGreaterThan(before.TCPServerWrap!);
    expect(await settled((now) => noneAbove(now, before))).toSatisfy((now: Record<string, number>) =>
      noneAbove(now, before),
    );
  });
});
