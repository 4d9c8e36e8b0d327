import { existsSync, readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

// One root config; every workspace package with tests is a project. The
// "opf-source" condition resolves workspace packages to their TypeScript
// sources, so tests need no build step.
const projectDirs = ["packages", "examples"].flatMap((parent) =>
  existsSync(parent) ? readdirSync(parent).map((name) => `${parent}/${name}`) : [],
);

export default defineConfig({
  resolve: { conditions: ["opf-source"] },
  ssr: { resolve: { conditions: ["opf-source"] } },
  test: {
    projects: projectDirs.map((dir) => ({
      extends: true as const,
      test: { name: dir.split("/")[1], include: [`${dir}/src/**/*.test.ts`] },
    })),
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
