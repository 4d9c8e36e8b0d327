import { describe, expect, it } from "vitest";
import { CallQueue } from "./call-queue.js";

describe("CallQueue", () => {
  it("hands waiters out first in, first out", () => {
    const queue = new CallQueue<string>(5);
    for (const w of ["a", "b", "c"]) expect(queue.push(w)).toBe(true);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual(["a", "b", "c", undefined]);
  });

  it("refuses a waiter past its bound, and queues nothing with a bound of 0", () => {
    const queue = new CallQueue<string>(2);
    expect([queue.push("a"), queue.push("b"), queue.push("c")]).toEqual([true, true, false]);
    expect(queue.size).toBe(2);
    expect(new CallQueue<string>(0).push("a")).toBe(false);
  });

  it("removes a waiter from the middle and keeps the order of the rest", () => {
    const queue = new CallQueue<string>(5);
    for (const w of ["a", "b", "c"]) queue.push(w);
    expect(queue.remove("b")).toBe(true);
    expect(queue.remove("b")).toBe(false);
    expect(queue.push("d")).toBe(true);
    expect(queue.clear()).toEqual(["a", "c", "d"]);
    expect(queue.size).toBe(0);
  });

  it("shows the waiter first in line without taking it out", () => {
    const queue = new CallQueue<string>(5);
    expect(queue.peek()).toBeUndefined();
    for (const w of ["a", "b"]) queue.push(w);
    expect(queue.peek()).toBe("a");
    expect(queue.size).toBe(2);
    queue.remove("a");
    expect(queue.peek()).toBe("b");
  });
});
