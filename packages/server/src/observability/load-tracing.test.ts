import { beforeEach, describe, expect, it, vi } from "vitest";
import { PluginServerImpl } from "../plugin-server.js";

// Counts how often the server imports @opentelemetry/api; the real module is returned.
const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock("@opentelemetry/api", async (importOriginal) => {
  imports.count++;
  return importOriginal();
});

const options = { listen: "127.0.0.1:0", authenticator: "none" as const };

describe("loading @opentelemetry/api", () => {
  beforeEach(() => {
    vi.resetModules();
    imports.count = 0;
  });

  it("never imports it when tracing is off", async () => {
    const server = new PluginServerImpl(options);
    await server.ready();
    await server.stop();
    expect(imports.count).toBe(0);
  });

  it("imports it once when the server starts with tracing on", async () => {
    const server = new PluginServerImpl({ ...options, tracing: true });
    expect(imports.count).toBe(0);
    await server.ready();
    await server.stop();
    expect(imports.count).toBe(1);
  });
});
