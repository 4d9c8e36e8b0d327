import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { isStatusError, PluginFrameworkError, protocolViolation } from "./errors.js";

describe("PluginFrameworkError.from", () => {
  it("returns a PluginFrameworkError unchanged", () => {
    const original = new PluginFrameworkError(status.NOT_FOUND, "gone");
    expect(PluginFrameworkError.from(original)).toBe(original);
  });

  it("keeps code, details and metadata of a grpc-js ServiceError, with it as the cause", () => {
    const metadata = new Metadata();
    metadata.set("retry-after", "3");
    const serviceError = Object.assign(new Error("14 UNAVAILABLE: down"), {
      code: status.UNAVAILABLE,
      details: "down",
      metadata,
    });
    const err = PluginFrameworkError.from(serviceError, status.INTERNAL);
    expect(err).toBeInstanceOf(PluginFrameworkError);
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toBe("down");
    expect(err.metadata.get("retry-after")).toEqual(["3"]);
    expect(err.cause).toBe(serviceError);
    expect(err.message).toBe("UNAVAILABLE: down");
  });

  it("turns an AbortError into CANCELLED", () => {
    const controller = new AbortController();
    controller.abort();
    const reason = controller.signal.reason as Error;
    expect(PluginFrameworkError.from(reason, status.INTERNAL).code).toBe(status.CANCELLED);
  });

  it("gives a plain error or a non-error the fallback code", () => {
    const plain = new Error("boom");
    const fromPlain = PluginFrameworkError.from(plain, status.INTERNAL);
    expect(fromPlain.code).toBe(status.INTERNAL);
    expect(fromPlain.details).toBe("boom");
    expect(fromPlain.cause).toBe(plain);
    const fromString = PluginFrameworkError.from("text");
    expect(fromString.code).toBe(status.UNKNOWN);
    expect(fromString.details).toBe("text");
  });
});

describe("protocolViolation", () => {
  it("is INVALID_ARGUMENT and says it is a protocol violation", () => {
    const err = protocolViolation("data for unknown stream 7");
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe("protocol violation: data for unknown stream 7");
    expect(isStatusError(err)).toBe(true);
  });
});

describe("isStatusError", () => {
  it("matches gRPC codes only, never a DOMException's own code", () => {
    expect(isStatusError(Object.assign(new Error("x"), { code: status.OK }))).toBe(true);
    expect(isStatusError(Object.assign(new Error("x"), { code: 17 }))).toBe(false);
    expect(isStatusError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe(false);
    expect(isStatusError(new DOMException("aborted", "AbortError"))).toBe(false);
  });
});
