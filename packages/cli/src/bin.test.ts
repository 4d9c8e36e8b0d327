import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));

/** Runs the real bin in a child process, as a shell user would. */
function opf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=opf-source", "--import", "tsx", main, ...args],
      { env: { ...process.env, OPF_ADMIN: "" }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the opf bin", () => {
  it("prints usage with --help and exits 0", async () => {
    const result = await opf(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("usage: opf [--admin ADDRESS] COMMAND");
  });

  it("exits 2 with the usage for an unknown command", async () => {
    const result = await opf(["frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('opf: unknown command "frobnicate"');
    expect(result.stderr).toContain("usage: opf");
  });

  it("exits 3 when nothing listens at the admin address", async () => {
    const result = await opf(["--admin", "unix:///nonexistent/opf-admin.sock", "plugins"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      "cannot reach the operator's admin service at unix:///nonexistent/opf-admin.sock",
    );
  });
});
