import type { PluginIdentity } from "@operator-plugin-framework/auth";
import { allowAllNames } from "@operator-plugin-framework/auth/operator";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestPlugin, startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

describe("maximum connection age", () => {
  it("drains old sessions: the plugin reconnects with a fresh token and no call fails", async () => {
    const tokensSeen: string[] = [];
    await using server = await startTestServer({
      maxConnectionAgeMs: 300,
      drainGraceMs: 2_000,
      authenticator: {
        mode: "test",
        async authenticate({ headers }): Promise<PluginIdentity> {
          tokensSeen.push(String(headers.authorization?.[0]));
          return { user: "system:serviceaccount:plugins:aging", groups: [] };
        },
      },
      authorizeName: allowAllNames(),
    });
    let rotation = 0;
    const plugin = await startTestPlugin({
      name: "aging",
      target: server.target,
      services: [[GreeterServiceService, createGreeter("a").impl]],
      token: { getToken: async () => `token-${++rotation}` },
    });
    let registrations = 0;
    server.registry.on("registered", () => registrations++);
    const handle = server.registry.get("aging");
    let ok = 0;
    // Keep calls going until the session was replaced twice; bounded by count.
    for (let i = 0; i < 2_000 && registrations < 2; i++) {
      const reply = await handle.call(
        GreeterServiceService.sayHello,
        { name: `c${i}`, delayMs: i % 3 },
        { timeoutMs: 5_000 },
      );
      expect(reply.message).toBe(`hello c${i}`);
      ok++;
    }
    expect(registrations).toBeGreaterThanOrEqual(2);
    expect(ok).toBeGreaterThan(0);
    expect(new Set(tokensSeen).size).toBeGreaterThanOrEqual(3);
    expect(tokensSeen[0]).toBe("Bearer token-1");
    await plugin.close();
  });
});
