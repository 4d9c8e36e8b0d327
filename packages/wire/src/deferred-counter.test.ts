import { describe, expect, it } from "vitest";
import { DeferredCounter, type PromCounterLike } from "./deferred-counter.js";

/** A counter that records what reaches it, as prom-client's would add it up. */
function recordingCounter(): PromCounterLike & { incs: [string, number][] } {
  const incs: [string, number][] = [];
  return { incs, inc: (labels, value = 1) => void incs.push([JSON.stringify(labels), value]) };
}

describe("DeferredCounter", () => {
  it("hands the increments of each series to the counter when it is collected, once per series", () => {
    const counter = recordingCounter();
    const deferred = DeferredCounter.of(counter);
    const ok = deferred.cell({ method: "Get", code: "OK" });
    const notFound = deferred.cell({ method: "Get", code: "NOT_FOUND" });
    for (let i = 0; i < 1_000; i++) ok.value++;
    notFound.value += 3;
    expect(counter.incs).toEqual([]);
    counter.collect!();
    expect(counter.incs).toEqual([
      ['{"method":"Get","code":"OK"}', 1_000],
      ['{"method":"Get","code":"NOT_FOUND"}', 3],
    ]);
    // Nothing moved since: a second read adds nothing.
    counter.collect!();
    expect(counter.incs).toHaveLength(2);
  });

  it("gives one label set one cell, across views of the same counter", () => {
    const counter = recordingCounter();
    const a = DeferredCounter.of(counter).cell({ plugin: "dns" });
    const b = DeferredCounter.of(counter).cell({ plugin: "dns" });
    expect(b).toBe(a);
    a.value++;
    b.value++;
    counter.collect!();
    expect(counter.incs).toEqual([['{"plugin":"dns"}', 2]]);
  });

  it("keeps a collect hook the counter already had", () => {
    const counter = recordingCounter();
    let collected = 0;
    counter.collect = () => collected++;
    DeferredCounter.of(counter).cell({ plugin: "dns" }).value++;
    counter.collect();
    expect(collected).toBe(1);
    expect(counter.incs).toEqual([['{"plugin":"dns"}', 1]]);
  });
});
