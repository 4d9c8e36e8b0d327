import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { killProcess, spawnPlugin } from "./fixtures/spawn-plugin.js";

describe("a plugin process that dies", () => {
  it("fails its in-flight calls with UNAVAILABLE promptly when killed with SIGKILL", async () => {
    await using server = await startTestServer();
    const child = await spawnPlugin(server.target, "doomed");
    try {
      const handle = server.registry.get("doomed");
      const calls = Array.from({ length: 20 }, (_, i) =>
        handle.call(
          GreeterServiceService.sayHello,
          { name: `c${i}`, delayMs: 60_000 },
          { timeoutMs: 60_000 },
        ),
      );
      const settled = Promise.allSettled(calls);
      await expect.poll(() => handle.sessions[0]?.inFlight).toBe(20);
      const killedAt = Date.now();
      await killProcess(child);
      const results = await settled;
      const elapsed = Date.now() - killedAt;
      expect(
        results.every(
          (r) => r.status === "rejected" && (r.reason as { code: number }).code === status.UNAVAILABLE,
        ),
      ).toBe(true);
      expect(elapsed).toBeLessThan(1_000);
      expect(server.registry.has("doomed")).toBe(false);
    } finally {
      await killProcess(child);
    }
  });
});

describe("unix socket listener", () => {
  it("serves plugins on a unix socket and removes the socket on stop", async () => {
    const { existsSync } = await import("node:fs");
    const server = await startTestServer({ unixSocket: true });
    const path = server.target.slice("unix://".length);
    expect(existsSync(path)).toBe(true);
    const child = await spawnPlugin(server.target, "unixy");
    try {
      const reply = await server.registry
        .get("unixy")
        .call(GreeterServiceService.sayHello, { name: "sock", delayMs: 0 }, { timeoutMs: 5_000 });
      expect(reply.message).toBe("hello sock");
    } finally {
      await killProcess(child);
      await server.server.stop();
    }
    expect(existsSync(path)).toBe(false);
    await server.close();
  });

  it("removes a stale socket left by a killed process before listening", async () => {
    const { existsSync } = await import("node:fs");
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { spawn } = await import("node:child_process");
    const dir = await mkdtemp(join(tmpdir(), "opf-stale-"));
    const path = join(dir, "plugins.sock");
    const holder = spawn(
      process.execPath,
      ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    await new Promise((resolve) => holder.stdout!.once("data", resolve));
    await killProcess(holder);
    expect(existsSync(path)).toBe(true);
    const server = await startTestServer({ listen: `unix://${path}` });
    try {
      const child = await spawnPlugin(server.target, "after-crash");
      await killProcess(child);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
