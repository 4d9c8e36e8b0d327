import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectPlugin,
  type PluginConnection,
  serveHealthEndpoints,
} from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

async function probe(address: string, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${address}${path}`);
  return { status: response.status, body: await response.text() };
}

function until(connection: PluginConnection, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (done()) return resolve();
    const off = connection.onState(() => {
      if (!done()) return;
      off();
      resolve();
    });
  });
}

describe("the plugin's /readyz and /livez", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it("/readyz follows registration, with the reason when not ready; /livez fails only once closed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opf-health-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const socket = `unix://${join(dir, "operator.sock")}`;
    // The operator is not up yet: the plugin keeps retrying.
    const connection = connectPlugin({
      target: socket,
      name: "aws",
      services: [[GreeterServiceService, createGreeter("aws").impl]],
      backoff: { initialMs: 20, maxMs: 100 },
      drainGraceMs: 500,
    });
    cleanup.push(() => connection.close());
    const health = await serveHealthEndpoints(connection, { host: "127.0.0.1", port: 0 });
    cleanup.push(() => health.close());

    await until(connection, () => connection.state.state === "reconnecting");
    const before = await probe(health.address, "/readyz");
    expect(before.status).toBe(503);
    expect(before.body).toContain("not registered with any operator");
    // Between attempts it says when it retries; during one, what failed last.
    expect(before.body).toMatch(/retrying in \d+ ms: UNAVAILABLE|last failure: UNAVAILABLE/);
    expect((await probe(health.address, "/livez")).status).toBe(200);

    const operator = await startTestServer({ listen: socket });
    await connection.registered();
    expect(await probe(health.address, "/readyz")).toEqual({ status: 200, body: "ok\n" });

    await operator.close();
    await until(connection, () => !connection.isRegistered);
    expect((await probe(health.address, "/readyz")).status).toBe(503);
    expect((await probe(health.address, "/livez")).status).toBe(200);

    await connection.close();
    expect(await probe(health.address, "/livez")).toEqual({ status: 503, body: "connection closed\n" });
    expect((await probe(health.address, "/nope")).status).toBe(404);
  });
});
