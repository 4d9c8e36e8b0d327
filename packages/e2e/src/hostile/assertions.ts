import { status } from "@grpc/grpc-js";
import { expect } from "vitest";
import type { OperatorProcess } from "./operator-process.js";
import type { CallReport, ChildMemory } from "./protocol.js";
import type { StreamOutcome } from "./raw-h2-stream.js";

/** The bound every attack must stay within: the operator's RSS over its baseline. */
export const RSS_BOUND_BYTES = 64 * 1024 * 1024;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Asserts the operator's RSS, after a forced GC, is within 64 MiB of `baseline`. Returns the growth. */
export async function expectRssWithinBound(
  operator: OperatorProcess,
  baseline: ChildMemory,
): Promise<number> {
  const after = await operator.memory();
  const growth = after.rss - baseline.rss;
  expect(
    growth,
    `operator RSS grew by ${mib(growth)} (from ${mib(baseline.rss)} to ${mib(after.rss)}); the bound is ${mib(RSS_BOUND_BYTES)}`,
  ).toBeLessThan(RSS_BOUND_BYTES);
  return growth;
}

/** Asserts every call the operator made to the good plugin during the attack succeeded, and there were some. */
export function expectGoodCallsSucceeded(report: CallReport, atLeast = 1): void {
  expect(report.failed, `good plugin's calls failed: ${report.errors.join("; ")}`).toBe(0);
  expect(report.ok, "the good plugin served too few calls during the attack").toBeGreaterThanOrEqual(atLeast);
}

/** Asserts every offender stream ended with exactly `code` (and, when given, details matching `details`). */
export function expectOffenderStatus(outcomes: StreamOutcome[], code: status, details?: RegExp): void {
  expect(outcomes.length).toBeGreaterThan(0);
  for (const outcome of outcomes) {
    expect(
      status[outcome.code] ?? outcome.code,
      `offender ended with ${status[outcome.code]}: ${outcome.details}`,
    ).toBe(status[code]);
    if (details) expect(outcome.details).toMatch(details);
  }
}
