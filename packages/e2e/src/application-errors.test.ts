import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("./fixtures/throwing-callback-main.ts", import.meta.url));

async function run(mode: string): Promise<{ uncaught: string; next: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=opf-source", "--import", "tsx", main, mode],
    { timeout: 15_000 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

describe("an exception in the operator's own callback", () => {
  it("surfaces as uncaught and leaves the connection usable, as with a direct grpc-js server", async () => {
    const direct = await run("direct");
    expect(direct.uncaught).toBe("thrown by the operator's callback");
    // grpc-js' direct reply; the tunnel and seed greeters answer the same call.
    expect(direct.next).toBe("hello second");
    expect(await run("tunnel")).toEqual(direct);
    expect(await run("seed")).toEqual({ ...direct, next: "hello" });
  });
});
