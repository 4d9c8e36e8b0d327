import { getEventListeners } from "node:events";
import { connect } from "node:http2";
import { createServer } from "node:net";
import { PLUGIN_STREAM_PATH } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { PluginServerImpl } from "./plugin-server.js";

const options = { listen: "127.0.0.1:0", authenticator: "none" as const };

describe("plugin server lifecycle states", () => {
  it("goes idle, starting, serving, stopping, stopped", async () => {
    const server = new PluginServerImpl(options);
    expect(server.state()).toBe("idle");
    const done = server.start();
    expect(server.state()).toBe("starting");
    const addresses = await server.ready();
    expect(server.state()).toBe("serving");
    expect(addresses).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    const stopped = server.stop();
    await Promise.resolve();
    expect(server.state()).toBe("stopping");
    await stopped;
    await done;
    expect(server.state()).toBe("stopped");
  });

  it("goes straight from idle to stopped when stopped before it started", async () => {
    const server = new PluginServerImpl(options);
    await server.stop();
    expect(server.state()).toBe("stopped");
    await server.start();
    expect(await server.ready()).toEqual([]);
  });

  it("ends stopped, and rejects start() and ready(), when it cannot listen", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const server = new PluginServerImpl({ ...options, listen: `127.0.0.1:${port}` });
      await expect(server.ready()).rejects.toThrow();
      await expect(server.start()).rejects.toThrow();
      expect(server.state()).toBe("stopped");
      await server.stop();
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("leaves no abort listener on the caller's signal once stopped", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) {
      const server = new PluginServerImpl(options);
      void server.start(controller.signal);
      await server.ready();
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
      await server.stop();
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    }
  });

  it("stops even when a client never closes its side of the connection", async () => {
    const server = new PluginServerImpl({ ...options, drainGraceMs: 100 });
    void server.start();
    const [address] = await server.ready();
    // A stream that sends nothing and never ends: closing the connection
    // gracefully would wait for it forever, so stop() has to force it.
    const client = connect(`http://${address}`);
    const stream = client.request({
      ":method": "POST",
      ":path": PLUGIN_STREAM_PATH,
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("error", () => {});
    client.on("error", () => {});
    await new Promise((resolve) => stream.once("response", resolve));
    const closed = new Promise((resolve) => client.once("close", resolve));
    await server.stop();
    expect(server.state()).toBe("stopped");
    await closed;
  });

  it("stops when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const server = new PluginServerImpl(options);
    const done = server.start(controller.signal);
    await server.ready();
    controller.abort();
    await done;
    expect(server.state()).toBe("stopped");
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
