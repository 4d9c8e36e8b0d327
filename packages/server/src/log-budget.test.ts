import { describe, expect, it } from "vitest";
import { LogBudget } from "./log-budget.js";

describe("LogBudget", () => {
  it("passes up to perWindow lines per window, then counts the rest into the next window's first line", () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (obj: object) => lines.push(obj as Record<string, unknown>),
    };
    const budget = new LogBudget(2, 1_000, () => now);
    for (let i = 0; i < 5; i++) budget.warn(logger, { i }, "refused");
    expect(lines).toEqual([{ i: 0 }, { i: 1 }]);
    now = 1_000;
    budget.warn(logger, { i: 5 }, "refused");
    expect(lines[2]).toEqual({ i: 5, suppressedBefore: 3 });
  });
});
