import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { PluginFrameworkError } from "./errors.js";
import { importOptionalPeer } from "./optional-peer.js";

describe("importOptionalPeer", () => {
  it("loads an installed package", async () => {
    const grpc = await importOptionalPeer(() => import("@grpc/grpc-js"), "@grpc/grpc-js", "~1.14", "tests");
    expect(grpc.status.OK).toBe(0);
  });

  it("fails with FAILED_PRECONDITION and the install command when the package is missing", async () => {
    const missing = "opf-no-such-package";
    const err = await importOptionalPeer(() => import(missing), missing, "^1.0", "metrics").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PluginFrameworkError);
    expect((err as PluginFrameworkError).code).toBe(status.FAILED_PRECONDITION);
    expect((err as PluginFrameworkError).details).toBe(
      'metrics needs the optional peer dependency opf-no-such-package, which is not installed; install it with: npm install opf-no-such-package@"^1.0"',
    );
  });
});
