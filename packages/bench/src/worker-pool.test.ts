import { describe, expect, it } from "vitest";
import { startWorker } from "./worker-pool.js";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("bench worker processes", () => {
  it("answer calls, report handler errors, and exit on their own when stopped", async () => {
    const worker = await startWorker("test-proxy", ["proxy"]);
    const pid = worker.pid!;
    try {
      expect(await worker.call<number>("cpu")).toBeGreaterThan(0);
      await expect(worker.call("nope")).rejects.toThrow(/no method "nope" in roles proxy/);
    } finally {
      await worker.stop();
    }
    // Exit code 0 and no signal: the worker left because its IPC channel closed, not because it was killed.
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
    await expect(worker.call("cpu")).rejects.toThrow(/exited/);
  });
});

describe("a bench worker whose parent goes away", () => {
  it("exits even while it holds a listening server", async () => {
    const worker = await startWorker("test-callee", ["callee"]);
    await worker.call("startServer");
    worker.disconnect();
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(alive(worker.pid!)).toBe(false);
  });
});
