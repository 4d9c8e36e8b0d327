import { getEventListeners } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { connectPlugin, PluginFrameworkError, quietLogger } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { afterEach, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

describe("connection.registered({ timeoutMs, signal })", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function unreachablePlugin() {
    const dir = await mkdtemp(join(tmpdir(), "opf-registered-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const target = `unix://${join(dir, "nobody-listens.sock")}`;
    const connection = connectPlugin({
      target,
      name: "aws",
      services: [[GreeterServiceService, createGreeter("aws").impl]],
      backoff: { initialMs: 10, maxMs: 20 },
      logger: quietLogger,
    });
    cleanup.push(() => connection.close());
    return { connection, target };
  }

  it("gives up after timeoutMs with DEADLINE_EXCEEDED saying why, per operator address", async () => {
    const { connection, target } = await unreachablePlugin();
    // Wait for one failed attempt, so the reason is known.
    await new Promise<void>((resolve) => {
      const off = connection.onState((s) => {
        if (s.state !== "reconnecting") return;
        off();
        resolve();
      });
    });
    const err = await connection.registered({ timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginFrameworkError);
    expect((err as PluginFrameworkError).code).toBe(status.DEADLINE_EXCEEDED);
    expect((err as PluginFrameworkError).details).toMatch(
      new RegExp(
        `^plugin "aws" was not registered within 50 ms; ${target} \\(\\w+; last failure: UNAVAILABLE: `,
      ),
    );
  });

  it("gives up with CANCELLED when the signal aborts, and leaves no listener on it", async () => {
    const { connection } = await unreachablePlugin();
    const controller = new AbortController();
    const waiting = connection.registered({ signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    const err = (await waiting) as PluginFrameworkError;
    expect(err.code).toBe(status.CANCELLED);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});
