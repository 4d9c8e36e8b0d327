import { status } from "@grpc/grpc-js";
import * as prom from "prom-client";
import { describe, expect, it } from "vitest";
import { createPromServerObserver, MAX_METHOD_LABELS, MAX_PLUGIN_LABELS } from "./prom-server-observer.js";

async function labelValues(registry: prom.Registry, name: string, label: string): Promise<Set<string>> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return new Set(values.map((v) => String(v.labels[label])));
}

function announce(count: number, prefix: string) {
  return [
    {
      name: "flood.v1.Flood",
      methods: Array.from({ length: count }, (_, i) => ({
        name: `${prefix}${i}`,
        clientStreaming: false,
        serverStreaming: false,
      })),
    },
  ];
}

describe("operator metric label bounds", () => {
  it("gives at most the bound's methods a label, however many are announced or called", async () => {
    const registry = new prom.Registry();
    const observer = createPromServerObserver(prom, registry);
    // register() caps one plugin at 4,096 methods; the bound must hold against far more.
    const session = observer.sessionOpened({ id: "s1", name: "flood", services: announce(10_000, "M") });
    for (let i = 0; i < 10_000; i++) session.callStarted(`/flood.v1.Flood/M${i}`).end(status.OK);
    for (let i = 0; i < 500; i++) session.callStarted(`/never.Announced/X${i}`).end(status.UNIMPLEMENTED);
    const methods = await labelValues(registry, "pluginframework_calls_started_total", "method");
    expect(methods.size).toBe(MAX_METHOD_LABELS + 1);
    expect(methods.has("other")).toBe(true);
    expect(methods.has("M0")).toBe(true);
    expect(methods.has(`M${MAX_METHOD_LABELS}`)).toBe(false);
    expect(await labelValues(registry, "pluginframework_calls_started_total", "service")).toEqual(
      new Set(["flood.v1.Flood", "other"]),
    );
    const handled = await registry.getSingleMetric("pluginframework_calls_handled_total")!.get();
    const other = handled.values.find(
      (v) => v.labels.method === "other" && v.labels.code === "UNIMPLEMENTED",
    );
    expect(other?.value).toBe(500);
  });

  it("counts a method only under the plugin that announced it", async () => {
    const registry = new prom.Registry();
    const observer = createPromServerObserver(prom, registry);
    const session = observer.sessionOpened({ id: "s1", name: "aws", services: announce(1, "Get") });
    session.callStarted("/flood.v1.Flood/Get0").end(status.OK);
    session.callStarted("/flood.v1.Flood/Get1").end(status.OK);
    const { values } = await registry.getSingleMetric("pluginframework_calls_started_total")!.get();
    expect(values.map((v) => [v.labels.method, v.labels.type, v.value])).toEqual([
      ["Get0", "unary", 1],
      ["other", "other", 1],
    ]);
  });

  it("gives at most MAX_PLUGIN_LABELS plugin names a label, and their methods none beyond it", async () => {
    const registry = new prom.Registry();
    const observer = createPromServerObserver(prom, registry);
    for (let i = 0; i < MAX_PLUGIN_LABELS + 200; i++) {
      const session = observer.sessionOpened({ id: `s${i}`, name: `p${i}`, services: [] });
      session.closed();
    }
    const late = observer.sessionOpened({ id: "late", name: "late", services: announce(3, "L") });
    late.callStarted("/flood.v1.Flood/L0").end(status.OK);
    const plugins = await labelValues(registry, "pluginframework_registrations_total", "plugin");
    expect(plugins.size).toBe(MAX_PLUGIN_LABELS + 1);
    expect(plugins.has("late")).toBe(false);
    expect(await labelValues(registry, "pluginframework_calls_started_total", "method")).toEqual(
      new Set(["other"]),
    );
  });

  it("moves a session between states and off the gauge when it closes", async () => {
    const registry = new prom.Registry();
    const observer = createPromServerObserver(prom, registry);
    const session = observer.sessionOpened({ id: "s1", name: "aws", services: [] });
    session.drained("max_age");
    session.drained("operator");
    session.livenessFailed();
    const gauge = async () =>
      (await registry.getSingleMetric("pluginframework_sessions")!.get()).values.map((v) => [
        v.labels.state,
        v.value,
      ]);
    expect(await gauge()).toEqual([
      ["active", 0],
      ["retiring", 0],
      ["draining", 1],
    ]);
    session.closed();
    session.closed();
    expect(await gauge()).toEqual([
      ["active", 0],
      ["retiring", 0],
      ["draining", 0],
    ]);
    const text = await registry.metrics();
    expect(text).toContain('pluginframework_liveness_failures_total{plugin="aws"} 1');
    expect(text).toContain('pluginframework_drains_total{plugin="aws",cause="max_age"} 1');
    expect(text).toContain('pluginframework_drains_total{plugin="aws",cause="operator"} 1');
  });

  it("shares the metrics of a second server registered in the same registry", () => {
    const registry = new prom.Registry();
    createPromServerObserver(prom, registry).sessionOpened({ id: "a", name: "aws", services: [] });
    createPromServerObserver(prom, registry).sessionOpened({ id: "b", name: "aws", services: [] });
    return expect(registry.metrics()).resolves.toContain(
      'pluginframework_registrations_total{plugin="aws"} 2',
    );
  });
});
