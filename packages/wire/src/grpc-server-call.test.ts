import { createRequire } from "node:module";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { checkServerCall, noopMetricsRecorder, SUPPORTED_GRPC_JS } from "./grpc-server-call.js";

describe("the guarded grpc-js deep import", () => {
  const require = createRequire(import.meta.url);

  it("accepts the installed grpc-js, which is in the supported range", () => {
    const installed = (require("@grpc/grpc-js/package.json") as { version: string }).version;
    expect(installed).toMatch(/^1\.14\./);
    const module = require("@grpc/grpc-js/build/src/server-call.js");
    expect(checkServerCall(module, installed)).toBe(module);
  });

  it("fails with FAILED_PRECONDITION naming the range, the version found and what is missing", () => {
    const partial = { ServerWritableStreamImpl: class {}, serverErrorToStatus: () => ({}) };
    expect(() => checkServerCall(partial, "1.99.0")).toThrow(
      expect.objectContaining({
        code: status.FAILED_PRECONDITION,
        message: expect.stringContaining(
          `supports @grpc/grpc-js ${SUPPORTED_GRPC_JS}, found 1.99.0: ` +
            "@grpc/grpc-js/build/src/server-call.js lacks ServerReadableStreamImpl, ServerDuplexStreamImpl",
        ),
      }),
    );
    expect(() => checkServerCall(undefined, "unknown")).toThrow(
      /lacks ServerReadableStreamImpl, .*serverErrorToStatus/,
    );
  });
});

describe("noopMetricsRecorder", () => {
  it("has every recording method grpc-js's per-request recorder has", () => {
    const require = createRequire(import.meta.url);
    const { PerRequestMetricRecorder } = require("@grpc/grpc-js/build/src/orca.js");
    const methods = Object.getOwnPropertyNames(PerRequestMetricRecorder.prototype).filter(
      (n) => n !== "constructor",
    );
    for (const method of methods) {
      expect(typeof Reflect.get(noopMetricsRecorder, method), method).toBe("function");
    }
  });
});
