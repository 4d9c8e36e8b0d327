import { describe, expect, expectTypeOf, it } from "vitest";
import type { ConnectPluginOptions, Logger } from "./index.js";
import * as client from "./index.js";

describe("the client's entry point", () => {
  it("exports the curated runtime names and nothing internal", () => {
    expect(Object.keys(client).sort()).toEqual([
      "MAX_FILE_DESCRIPTOR_SET_BYTES",
      "PluginFrameworkError",
      "closeOnSignals",
      "connectPlugin",
      "isStatusError",
      "quietLogger",
      "serveHealthEndpoints",
      "service",
    ]);
  });

  it("types the logger option with the exported Logger, which quietLogger satisfies", () => {
    expectTypeOf<ConnectPluginOptions["logger"]>().toEqualTypeOf<Logger | undefined>();
    expectTypeOf(client.quietLogger).toEqualTypeOf<Logger>();
  });
});
