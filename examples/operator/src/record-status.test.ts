import { describe, expect, it } from "vitest";
import { checkSpec, type DNSRecord } from "./dns-record.js";
import { nextStatus, sameStatus } from "./record-status.js";

const record = (generation: number, status?: DNSRecord["status"]): DNSRecord => ({
  metadata: { name: "www", namespace: "dns", generation },
  spec: { provider: "aws", name: "www.example.com", type: "A", value: "192.0.2.1" },
  ...(status ? { status } : {}),
});
const t1 = new Date("2026-01-01T00:00:00.123Z");
const t2 = new Date("2026-01-01T00:05:00Z");

describe("nextStatus", () => {
  it("writes a Ready condition per the API conventions, with the provider record", () => {
    const status = nextStatus(
      record(3),
      {
        ready: true,
        reason: "Reconciled",
        message: "ok",
        record: { provider: "aws", recordId: "aws-1", generation: 3 },
      },
      t1,
    );
    expect(status).toEqual({
      provider: "aws",
      recordId: "aws-1",
      observedGeneration: 3,
      conditions: [
        {
          type: "Ready",
          status: "True",
          observedGeneration: 3,
          reason: "Reconciled",
          message: "ok",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    });
  });

  it("moves lastTransitionTime only when the status flips, and keeps the saved record id on a failure", () => {
    const first = nextStatus(record(1), { ready: false, reason: "PluginUnavailable", message: "a" }, t1);
    const same = nextStatus(record(1, first), { ready: false, reason: "ProviderError", message: "b" }, t2);
    expect(same.conditions![0]!.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    const ok = { ready: true, reason: "Reconciled", message: "c" } as const;
    const flipped = nextStatus(record(1, { ...same, recordId: "aws-9", provider: "aws" }), ok, t2);
    expect(flipped.conditions![0]!.lastTransitionTime).toBe("2026-01-01T00:05:00Z");
    expect(flipped.recordId).toBe("aws-9");
  });

  it("is the same status when only the timestamp would differ, not when the generation moved", () => {
    const state = { ready: false, reason: "InvalidSpec", message: "m" } as const;
    const written = nextStatus(record(1), state, t1);
    expect(sameStatus(written, nextStatus(record(1, written), state, t2))).toBe(true);
    expect(sameStatus(written, nextStatus(record(2, written), state, t2))).toBe(false);
  });
});

describe("checkSpec", () => {
  it("accepts every supported type and a trailing dot", () => {
    for (const [type, value] of [
      ["A", "192.0.2.1"],
      ["AAAA", "2001:db8::1"],
      ["CNAME", "lb.example.net"],
      ["TXT", "v=spf1 -all"],
    ]) {
      expect(checkSpec({ provider: "aws", name: "www.example.com.", type, value })).not.toHaveProperty(
        "invalid",
      );
    }
  });

  it("says what is wrong", () => {
    expect(checkSpec(undefined)).toEqual({
      invalid: "spec.provider, spec.name, spec.type, spec.value must be set",
    });
    expect(checkSpec({ provider: "aws", name: "localhost", type: "A", value: "192.0.2.1" })).toEqual({
      invalid: 'spec.name "localhost" is not a fully qualified DNS name such as "www.example.com"',
    });
    expect(checkSpec({ provider: "aws", name: "a.example.com", type: "AAAA", value: "192.0.2.1" })).toEqual({
      invalid: 'spec.value "192.0.2.1" is not an IPv6 address (type AAAA)',
    });
  });
});
