import { afterEach, describe, expect, it, vi } from "vitest";
import { connectPlugin } from "../connect-plugin.js";

// Counts how often the client imports prom-client; the real module is returned.
const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock("prom-client", async (importOriginal) => {
  imports.count++;
  return importOriginal();
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
// Port 9 (discard) on loopback: nothing answers, the connection only retries.
const options = { name: "p", target: "http://127.0.0.1:9", services: [], logger: quiet };

describe("loading prom-client on the plugin side", () => {
  afterEach(() => {
    vi.resetModules();
    imports.count = 0;
  });

  it("never imports prom-client when metrics are off", async () => {
    const connection = connectPlugin(options);
    await connection.close();
    expect(imports.count).toBe(0);
  });

  it("imports it when the connection opens with metrics on", async () => {
    const connection = connectPlugin({ ...options, metrics: true });
    await connection.close();
    // Loading is asynchronous (connectPlugin is not); the e2e tests check what it registers.
    await vi.waitFor(() => expect(imports.count).toBe(1));
  });
});
