import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import type { RegistryEvent } from "@operator-plugin-framework/registry";
import { startTestServer, type TestServer } from "@operator-plugin-framework/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { killProcess } from "./fixtures/spawn-plugin.js";

const main = fileURLToPath(new URL("./fixtures/signal-plugin-main.ts", import.meta.url));
const children: ChildProcess[] = [];

interface SignalPlugin {
  child: ChildProcess;
  /** Resolves once the child has printed `line`. */
  printed(line: string): Promise<void>;
}

async function spawnSignalPlugin(target: string, name: string): Promise<SignalPlugin> {
  const child = spawn(process.execPath, ["--conditions=opf-source", "--import", "tsx", main, target, name], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let output = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    output += chunk;
  });
  const printed = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!output.includes(line)) return;
        child.stdout!.off("data", check);
        resolve();
      };
      child.stdout!.on("data", check);
      child.once("exit", (code) => reject(new Error(`plugin process exited with ${code} before "${line}"`)));
      check();
    });
  await printed("registered");
  return { child, printed };
}

function unregistered(server: TestServer, name: string): Promise<void> {
  return new Promise((resolve) => {
    const off = server.registry.on("unregistered", (event: RegistryEvent) => {
      if (event.session.name === name && event.remaining === 0) {
        off();
        resolve();
      }
    });
  });
}

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => killProcess(child)));
});

describe("closeOnSignals in a plugin main", () => {
  it("closes on SIGTERM, exits 0, and the operator sees the plugin leave", async () => {
    await using server = await startTestServer();
    const { child } = await spawnSignalPlugin(server.target, "sigterm");
    const left = unregistered(server, "sigterm");
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    await left;
    expect(server.registry.has("sigterm")).toBe(false);
  });

  it("lets a call in flight finish before exiting 0 on SIGTERM", async () => {
    await using server = await startTestServer();
    const { child } = await spawnSignalPlugin(server.target, "draining");
    const handle = server.registry.get("draining");
    const left = unregistered(server, "draining");
    const call = handle.call(
      GreeterServiceService.sayHello,
      { name: "in-flight", delayMs: 300 },
      { timeoutMs: 10_000 },
    );
    await expect.poll(() => handle.sessions[0]?.inFlight).toBe(1);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await expect(call).resolves.toMatchObject({ message: "hello in-flight" });
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    await left;
  });

  it("exits at once with code 1 on a second signal while draining", async () => {
    await using server = await startTestServer();
    const { child, printed } = await spawnSignalPlugin(server.target, "impatient");
    const handle = server.registry.get("impatient");
    // The handler outlives the 5 s drain grace; only the second signal ends the process early.
    const call = handle
      .call(GreeterServiceService.sayHello, { name: "slow", delayMs: 60_000 }, { timeoutMs: 10_000 })
      .catch((err: { code: number }) => err.code);
    await expect.poll(() => handle.sessions[0]?.inFlight).toBe(1);
    const exited = once(child, "exit");
    const startedAt = Date.now();
    child.kill("SIGTERM");
    await printed("closing the plugin connection");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect(typeof (await call)).toBe("number");
  });
});
