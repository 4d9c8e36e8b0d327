// descriptors/dns.binpb is what the admin service hands `opf call` instead of
// --proto; it must describe dns.proto as it is now (`npm run descriptors`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL("../", import.meta.url));

describe("descriptors/dns.binpb", () => {
  it("is what buf builds from dns.proto today", () => {
    const dir = mkdtempSync(join(tmpdir(), "opf-descriptors-"));
    try {
      const out = join(dir, "dns.binpb");
      const script = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).scripts
        .descriptors as string;
      const [command, ...args] = script.replace("descriptors/dns.binpb", out).split(" ");
      execFileSync(command!, args, { cwd: here, stdio: "pipe" });
      expect(
        readFileSync(join(here, "descriptors/dns.binpb")).equals(readFileSync(out)),
        "descriptors/dns.binpb is stale: run `npm run descriptors` in examples/operator",
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
