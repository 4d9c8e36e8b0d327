// The operator of the scale scenario, in its own process so that its RSS is
// its own. Driven over IPC by scale.ts.
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { createPluginServer } from "@operator-plugin-framework/server";
import type { ChildReply, ChildRequest } from "./scale-protocol.js";

const server = createPluginServer({ listen: "127.0.0.1:0", drainGraceMs: 1_000, authenticator: "none" });
const running = server.start();
const [address] = await server.ready();

function send(reply: ChildReply): void {
  process.send?.(reply);
}

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

function waitRegistered(count: number, timeoutMs: number): Promise<boolean> {
  const registry = server.registry;
  // Count events rather than calling sessions() per event: that would be O(n²) in the benchmark itself.
  let registered = registry.sessions().length;
  return new Promise((resolve) => {
    if (registered >= count) return resolve(true);
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, timeoutMs);
    const off = registry.on("registered", () => {
      if (++registered < count) return;
      clearTimeout(timer);
      off();
      resolve(true);
    });
  });
}

async function fanOut(names: string[], timeoutMs: number) {
  const start = performance.now();
  const results = await Promise.allSettled(
    names.map((name) =>
      server.registry.get(name).call(GreeterServiceService.sayHello, { name, delayMs: 0 }, { timeoutMs }),
    ),
  );
  const failed = results.filter((r) => r.status === "rejected");
  const first = failed[0] as PromiseRejectedResult | undefined;
  return {
    ms: performance.now() - start,
    failed: failed.length,
    error: first ? String(first.reason) : undefined,
  };
}

process.on("message", async (request: ChildRequest) => {
  switch (request.type) {
    case "memory":
      send({ type: "memory", memory: memory() });
      break;
    case "wait":
      send({ type: "wait", ok: await waitRegistered(request.count, request.timeoutMs) });
      break;
    case "fanout":
      send({ type: "fanout", ...(await fanOut(request.names, request.timeoutMs)) });
      break;
    case "stop":
      await server.stop();
      await running.catch(() => {});
      process.disconnect?.();
      break;
  }
});

send({ type: "ready", target: `http://${address}` });
