import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer, connect as dial, type Server, type Socket } from "node:net";
import { connectPlugin } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

const hello = GreeterServiceService.sayHello;

/** A TCP relay in front of the operator whose connections can be cut, as a lost node or a crash cuts them. */
async function startRelay(
  upstreamPort: number,
): Promise<{ target: string; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  };
  const server: Server = createServer((downstream) => {
    const upstream = dial(upstreamPort, "127.0.0.1");
    track(downstream);
    track(upstream);
    downstream.pipe(upstream).on("close", () => downstream.destroy());
    upstream.pipe(downstream).on("close", () => upstream.destroy());
    downstream.on("close", () => upstream.destroy());
    upstream.on("close", () => downstream.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    target: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut,
    close: async () => {
      cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("reconnection after a healthy session", () => {
  it("comes back within about 1 s once a session that lived past healthyAfterMs is cut", async () => {
    await using operator = await startTestServer();
    const relay = await startRelay(Number(new URL(operator.target).port));
    // Any other end would wait up to 30 s (initialMs): only the fast first retry comes back in time.
    const plugin = connectPlugin({
      name: "steady",
      target: relay.target,
      services: [[GreeterServiceService, createGreeter("s").impl]],
      backoff: { initialMs: 30_000, maxMs: 30_000, firstRetryMs: 200, healthyAfterMs: 300 },
    });
    try {
      await plugin.registered({ timeoutMs: 10_000 });
      // A call that takes 400 ms on the plugin: the session has lived past healthyAfterMs once it returns.
      const handle = operator.registry.get("steady");
      expect((await handle.call(hello, { name: "before", delayMs: 400 })).message).toBe("hello before");

      const back = new Promise<number>((resolve) => {
        const off = operator.registry.on("registered", () => {
          off();
          resolve(performance.now());
        });
      });
      const cutAt = performance.now();
      relay.cut();
      // Generous for a loaded machine: the retry itself waits at most 200 ms.
      expect((await back) - cutAt).toBeLessThan(1_000);
      await expect.poll(() => plugin.isRegistered).toBe(true);
      expect((await handle.call(hello, { name: "after", delayMs: 0 })).message).toBe("hello after");
    } finally {
      await plugin.close();
      await relay.close();
    }
  });
});
