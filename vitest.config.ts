import { existsSync, readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// One root config; every workspace package with tests is a project. The
// "opf-source" condition resolves workspace packages to their TypeScript
// sources, so tests need no build step.
const projectDirs = ["packages", "examples"].flatMap((parent) =>
  existsSync(parent) ? readdirSync(parent).map((name) => `${parent}/${name}`) : [],
);

// The packages' own unit tests share one module graph per worker
// (`isolate: false`): each file otherwise re-imports grpc-js and the generated
// code in a fresh process, which cost more than the tests themselves (the unit
// projects ran 2.3x faster without it, 551 tests, same results). A unit test
// must therefore leave no global state behind: no default prom-client
// registry, no global tracer provider, no process listeners. The end-to-end
// and example projects start processes, servers and global providers, so each
// of their files keeps a fresh worker.
const isolated = new Set(["packages/e2e", "examples/demo", "examples/operator", "examples/plugin"]);

export default defineConfig({
  resolve: { conditions: ["opf-source"] },
  ssr: { resolve: { conditions: ["opf-source"] } },
  test: {
    projects: projectDirs.map((dir) => ({
      extends: true as const,
      test: {
        name: dir.split("/")[1],
        include: [`${dir}/src/**/*.test.ts`],
        isolate: isolated.has(dir),
        // Unit files are plain CPU work, so they take every core; vitest's
        // default leaves one free (a single worker on a 2-core CI machine).
        // End-to-end files keep that default: their operator and plugin child
        // processes need the other core, and their timing bounds assume it.
        // vitest runs projects with different worker counts as separate
        // groups, in groupOrder: the unit projects first, then the rest.
        ...(isolated.has(dir)
          ? { sequence: { groupOrder: 1 } }
          : { maxWorkers: availableParallelism(), sequence: { groupOrder: 0 } }),
      },
    })),
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
