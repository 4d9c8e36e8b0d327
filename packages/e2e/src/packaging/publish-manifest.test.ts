import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ExportTarget, packageDir, publicPackages, readManifest, scope } from "./workspace.js";

interface PublishFields {
  license?: string;
  files?: string[];
  publishConfig?: { access?: string; exports?: Record<string, ExportTarget> };
}

/** The exports map with every "opf-source" condition removed: what users must resolve. */
function withoutSourceCondition(target: ExportTarget): ExportTarget {
  if (!target || typeof target !== "object") return target;
  return Object.fromEntries(
    Object.entries(target)
      .filter(([condition]) => condition !== "opf-source")
      .map(([condition, value]) => [condition, withoutSourceCondition(value)]),
  );
}

// pnpm publish replaces `exports` with `publishConfig.exports`, so the development
// condition that points at TypeScript sources never reaches npm. These checks keep
// the two maps in step when someone adds an entry point to `exports` only.
describe("what pnpm publish puts in each public package's manifest", () => {
  for (const pkg of publicPackages) {
    it(`${scope}/${pkg}: publishConfig.exports is exports without opf-source; files ship dist, not src`, () => {
      const dir = packageDir(pkg);
      const manifest = readManifest(dir) as ReturnType<typeof readManifest> & PublishFields;
      const published = manifest.publishConfig?.exports;
      expect(published, "publishConfig.exports").toBeDefined();
      expect(published, "run `node scripts/sync-publish-config.mjs`").toEqual(
        Object.fromEntries(
          Object.entries(manifest.exports ?? {}).map(([path, target]) => [
            path,
            withoutSourceCondition(target),
          ]),
        ),
      );
      expect(JSON.stringify(published)).not.toContain("opf-source");
      expect(JSON.stringify(published)).not.toContain("./src/");
      expect(manifest.publishConfig?.access).toBe("public");
      expect(manifest.files).toContain("dist");
      expect(manifest.files?.filter((entry) => entry === "src" || entry.startsWith("src/*.ts"))).toEqual([]);
      expect(manifest.license).toBe("Apache-2.0");
      expect(existsSync(join(dir, "LICENSE")), "LICENSE file").toBe(true);
    });
  }
});
