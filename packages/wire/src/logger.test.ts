import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultLogger, quietLogger } from "./logger.js";

describe("defaultLogger", () => {
  afterEach(() => vi.restoreAllMocks());

  function captureStderr(): string[] {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    return lines;
  }

  it("writes warnings and errors as pino-shaped JSON lines on stderr", () => {
    const lines = captureStderr();
    defaultLogger.warn({ plugin: "aws", reason: "PERMISSION_DENIED" }, "plugin refused");
    defaultLogger.error({ err: Object.assign(new Error("boom"), { code: 14 }) }, "session lost");
    expect(lines).toHaveLength(2);
    const warn = JSON.parse(lines[0]!);
    expect(warn).toMatchObject({
      level: 40,
      msg: "plugin refused",
      plugin: "aws",
      reason: "PERMISSION_DENIED",
    });
    expect(typeof warn.time).toBe("number");
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      level: 50,
      msg: "session lost",
      err: { type: "Error", message: "boom", code: 14 },
    });
  });

  it("drops debug and info, and never throws on fields JSON cannot encode", () => {
    const lines = captureStderr();
    defaultLogger.debug({ a: 1 }, "d");
    defaultLogger.info({ a: 1 }, "i");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => defaultLogger.warn(cyclic, "cyclic")).not.toThrow();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: "cyclic", fields: "(not serializable)" });
  });

  it("quietLogger writes nothing", () => {
    const lines = captureStderr();
    quietLogger.error({ a: 1 }, "e");
    expect(lines).toHaveLength(0);
  });
});
