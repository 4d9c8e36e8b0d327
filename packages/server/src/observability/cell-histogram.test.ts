import { CellHistogram } from "@operator-plugin-framework/wire";
import * as prom from "prom-client";
import { describe, expect, it } from "vitest";

const buckets = [0.001, 0.01, 0.1, 1];
const observations: [Record<string, string>, number][] = [
  [{ plugin: "aws", method: "Get" }, 0.0004],
  [{ plugin: "aws", method: "Get" }, 0.001],
  [{ plugin: "aws", method: "Get" }, 0.05],
  [{ plugin: "gcp", method: "Put" }, 2.5],
  [{ plugin: "aws", method: "Get" }, 0.3],
];

/** The same observations through prom-client's Histogram and through a CellHistogram, each in its own registry. */
function both() {
  const reference = new prom.Registry();
  const histogram = new prom.Histogram({
    name: "d_seconds",
    help: "Durations.",
    labelNames: ["plugin", "method"],
    buckets,
    registers: [reference],
  });
  const cells = new prom.Registry();
  const cellHistogram = CellHistogram.register(cells, {
    name: "d_seconds",
    help: "Durations.",
    buckets,
  });
  for (const [labels, value] of observations) {
    histogram.observe(labels, value);
    cellHistogram.cell(labels).observe(value);
  }
  return { reference, cells, cellHistogram };
}

describe("CellHistogram in a prom-client registry", () => {
  it("exposes exactly what prom-client's own Histogram exposes for the same observations", async () => {
    const { reference, cells } = both();
    expect(await cells.metrics()).toBe(await reference.metrics());
    expect(await cells.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
  });

  it("is shared by a second observer registering the same name in the same registry", () => {
    const { cells, cellHistogram } = both();
    const again = CellHistogram.register(cells, {
      name: "d_seconds",
      help: "Durations.",
      buckets,
    });
    expect(again).toBe(cellHistogram);
    expect(again.cell({ plugin: "aws", method: "Get" })).toBe(
      cellHistogram.cell({ plugin: "aws", method: "Get" }),
    );
  });

  it("starts its counts over when the registry's metrics are reset", async () => {
    const { cells } = both();
    cells.resetMetrics();
    expect(await cells.metrics()).toContain('d_seconds_count{plugin="aws",method="Get"} 0');
    expect(await cells.metrics()).toContain('d_seconds_bucket{le="+Inf",plugin="gcp",method="Put"} 0');
  });
});
