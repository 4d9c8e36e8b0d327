import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { validateRegister } from "./register.js";
import { LABEL_LIMITS, validateLabels } from "./register-labels.js";

const refusal = (labels: Record<string, string>) => {
  try {
    validateLabels(labels);
  } catch (err) {
    return err as { code: status; details: string };
  }
  throw new Error("labels were accepted");
};

describe("validateLabels()", () => {
  it("accepts Kubernetes-style labels, prefixed keys and empty values", () => {
    expect(() =>
      validateLabels({
        region: "eu-west-1",
        "example.com/tier": "gold",
        "app.kubernetes.io/part-of": "dns_v2.beta",
        canary: "",
        [`k${"x".repeat(62)}`]: `v${"y".repeat(62)}`,
      }),
    ).not.toThrow();
  });

  it("refuses more labels than the limit, saying which bound", () => {
    const labels = Object.fromEntries(
      Array.from({ length: LABEL_LIMITS.maxLabels + 1 }, (_, i) => [`k${i}`, "v"]),
    );
    expect(refusal(labels)).toEqual(
      expect.objectContaining({
        code: status.INVALID_ARGUMENT,
        details: `register announces ${LABEL_LIMITS.maxLabels + 1} labels, more than the limit of ${LABEL_LIMITS.maxLabels}`,
      }),
    );
  });

  it("refuses labels over the byte limit", () => {
    // Keys of 72 + 1 + 63 bytes, values of 63: each label is fine, 21 of them are 4179 bytes.
    const labels = Object.fromEntries(
      Array.from({ length: 21 }, (_, i) => [
        `${"a".repeat(60)}.example.com/${String(i).padStart(63, "k")}`,
        "v".repeat(63),
      ]),
    );
    expect(refusal(labels).details).toBe(
      `register labels take more than ${LABEL_LIMITS.maxBytes} bytes (keys and values, UTF-8), the limit`,
    );
  });

  it.each([
    ["Region Name", "a space"],
    ["-region", "a leading dash"],
    ["x".repeat(64), "a 64-character name"],
    ["Example.com/tier", "an upper-case prefix"],
    ["/tier", "an empty prefix"],
    ["example.com/", "an empty name"],
    ["a/b/c", "two slashes"],
  ])("refuses the key %j (%s) with the key rule", (key) => {
    const { code, details } = refusal({ [key]: "v" });
    expect(code).toBe(status.INVALID_ARGUMENT);
    expect(details).toMatch(
      /^label key ".*" is not a Kubernetes label key \(an optional DNS-1123 subdomain prefix/,
    );
  });

  it.each([["eu west"], ["-eu"], ["eu-"], ["v".repeat(64)], ["ü"]])(
    "refuses the value %j with the value rule",
    (value) => {
      expect(refusal({ region: value }).details).toMatch(
        /^label "region" has value ".*", not a Kubernetes label value \(empty, or at most 63 letters/,
      );
    },
  );

  it("runs as part of the register checks", () => {
    const register = {
      name: "aws",
      version: "1.0.0",
      protocolRevision: 1,
      services: [],
      settings: undefined,
      labels: { "bad key": "v" },
      fileDescriptorSet: Buffer.alloc(0),
    };
    expect(() => validateRegister(register)).toThrow(/label key "bad key" is not a Kubernetes label key/);
  });
});
