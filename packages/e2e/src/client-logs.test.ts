import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectPlugin, type Logger } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

describe("a plugin's logs", () => {
  it("warn on every failed connection attempt with the reason, and say when registered", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opf-logs-"));
    const socket = `unix://${join(dir, "operator.sock")}`;
    const { logger, lines } = recordingLogger();
    const connection = connectPlugin({
      target: socket,
      name: "aws",
      services: [[GreeterServiceService, createGreeter("aws").impl]],
      backoff: { initialMs: 20, maxMs: 50 },
      drainGraceMs: 200,
      logger,
    });
    try {
      await new Promise<void>((resolve) => {
        const off = connection.onState((state) => {
          if (state.state === "reconnecting") {
            off();
            resolve();
          }
        });
      });
      const warning = lines.find((line) => line.level === "warn");
      expect(warning?.msg).toBe("plugin connection reconnecting");
      expect(warning?.obj.details).toEqual(expect.any(String));
      expect(warning?.obj).toMatchObject({
        plugin: "aws",
        target: socket,
        codeName: "UNAVAILABLE",
      });
      const operator = await startTestServer({ listen: socket });
      await connection.registered();
      expect(lines.some((line) => line.level === "info" && line.msg === "plugin connection registered")).toBe(
        true,
      );
      await connection.close();
      await operator.close();
    } finally {
      await connection.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
