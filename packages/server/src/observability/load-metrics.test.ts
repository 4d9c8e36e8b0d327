import { beforeEach, describe, expect, it, vi } from "vitest";
import { PluginServerImpl } from "../plugin-server.js";

// Counts how often the server imports prom-client; the real module is returned.
const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock("prom-client", async (importOriginal) => {
  imports.count++;
  return importOriginal();
});

const options = { listen: "127.0.0.1:0", authenticator: "none" as const };

describe("loading prom-client", () => {
  beforeEach(() => {
    vi.resetModules();
    imports.count = 0;
  });

  it("never imports prom-client when metrics are off", async () => {
    const server = new PluginServerImpl(options);
    await server.ready();
    await server.stop();
    expect(imports.count).toBe(0);
  });

  it("imports it when the server starts with metrics on, and registers in the default registry", async () => {
    const server = new PluginServerImpl({ ...options, metrics: true });
    expect(imports.count).toBe(0);
    await server.ready();
    await server.stop();
    expect(imports.count).toBe(1);
    const { register } = await import("prom-client");
    expect(register.getSingleMetric("pluginframework_sessions")).toBeDefined();
    register.clear();
  });
});
