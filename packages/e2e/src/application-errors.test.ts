import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const main = fileURLToPath(new URL("./fixtures/throwing-callback-main.ts", import.meta.url));

async function run(mode: string): Promise<{ uncaught: string; next: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--conditions=opf-source", "--import", "tsx", main, mode],
    { timeout: TIMEOUT_MS - 5_000 },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

// Each case starts a Node process with tsx, which takes seconds on a loaded machine.
const TIMEOUT_MS = 40_000;

describe("an exception in the operator's own callback", () => {
  // What a direct grpc-js server gives, checked first so the other cases compare with a known baseline.
  const expected = { uncaught: "thrown by the operator's callback", next: "hello second" };

  it(
    "surfaces as uncaught and leaves the connection usable with a direct grpc-js server",
    async () => {
      expect(await run("direct")).toEqual(expected);
    },
    TIMEOUT_MS,
  );

  it(
    "does the same through a revision-1 plugin's tunnel",
    async () => {
      expect(await run("tunnel")).toEqual(expected);
    },
    TIMEOUT_MS,
  );

  it(
    "does the same with a seed plugin, whose session goes on",
    async () => {
      // The seed double answers every call with "hello".
      expect(await run("seed")).toEqual({ ...expected, next: "hello" });
    },
    TIMEOUT_MS,
  );
});
