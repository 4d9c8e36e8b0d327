import { describe, expect, it } from "vitest";
import { fmt } from "./report.js";
import { check } from "./targets.js";

describe("check", () => {
  it("prints a value that misses its goal with enough digits not to read as met", () => {
    const missed = check("ratio", "≥0.9", 0.897788);
    expect(missed.met).toBe(false);
    expect(fmt(missed.value, missed.digits)).toBe("0.898");
    const over = check("ratio", "≤0.35", 0.3504);
    expect(over.met).toBe(false);
    expect(fmt(over.value, over.digits)).toBe("0.3504");
  });

  it("keeps the usual digits when rounding cannot mislead", () => {
    expect(check("ratio", "≥0.9", 0.974).digits).toBe(2);
    expect(check("ratio", "≥0.9", 0.8).digits).toBe(2);
    expect(check("ratio", "≥5", 5.001).digits).toBe(2);
    expect(check("cpu", "≤12", 17.66, undefined, 1).digits).toBe(1);
  });
});
