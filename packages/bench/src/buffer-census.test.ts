import { describe, expect, it } from "vitest";
import { startBufferCensus } from "./buffer-census.js";

const KiB = 1024;

describe("buffer census", () => {
  it("counts large allocations, concats and copies by site, and nothing under the threshold", () => {
    const census = startBufferCensus({ minBytes: 64 * KiB });
    let parts: Buffer[] = [];
    try {
      parts = [Buffer.allocUnsafe(64 * KiB), Buffer.alloc(64 * KiB)];
      Buffer.concat(parts);
      Buffer.from(parts[0]!);
      new Uint8Array(128 * KiB).set(parts[1]!, 0);
      parts[0]!.copy(Buffer.allocUnsafe(64 * KiB));
      Buffer.alloc(KiB);
    } finally {
      census.stop();
    }
    const byKind = (kind: string) =>
      census
        .rows()
        .filter((r) => r.kind === kind)
        .reduce((n, r) => n + r.bytes, 0);
    expect(byKind("alloc")).toBe(3 * 64 * KiB);
    // The concat is one entry: its inner allocation and copies are not counted again.
    expect(byKind("concat")).toBe(128 * KiB);
    expect(byKind("copy")).toBe(3 * 64 * KiB);
    expect(census.rows().every((r) => r.site.includes("buffer-census.test"))).toBe(true);
  });

  it("puts every patched method back on stop", () => {
    const before = [
      Buffer.alloc,
      Buffer.concat,
      Buffer.from,
      Buffer.prototype.copy,
      Uint8Array.prototype.set,
    ];
    startBufferCensus().stop();
    expect([
      Buffer.alloc,
      Buffer.concat,
      Buffer.from,
      Buffer.prototype.copy,
      Uint8Array.prototype.set,
    ]).toEqual(before);
    const census = startBufferCensus({ minBytes: 1 });
    census.stop();
    Buffer.alloc(KiB);
    expect(census.rows()).toEqual([]);
  });
});
