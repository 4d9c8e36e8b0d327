import { afterEach, describe, expect, it, vi } from "vitest";
import { connectPlugin } from "../connect-plugin.js";

// Counts how often the client imports @opentelemetry/api; the real module is returned.
const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock("@opentelemetry/api", async (importOriginal) => {
  imports.count++;
  return importOriginal();
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
// Port 9 (discard) on loopback: nothing answers, the connection only retries.
const options = { name: "p", target: "http://127.0.0.1:9", services: [], logger: quiet };

describe("loading @opentelemetry/api on the plugin side", () => {
  afterEach(() => {
    vi.resetModules();
    imports.count = 0;
  });

  it("never imports it when tracing is off", async () => {
    const connection = connectPlugin(options);
    await connection.close();
    expect(imports.count).toBe(0);
  });

  it("imports it when the connection opens with tracing on", async () => {
    const connection = connectPlugin({ ...options, tracing: true });
    await connection.close();
    // Loading is asynchronous (connectPlugin is not); the e2e tests check the spans.
    await vi.waitFor(() => expect(imports.count).toBe(1));
  });
});
