import { describe, expect, it } from "vitest";
import { queueFullMessage } from "./call-queue.js";

describe("queueFullMessage", () => {
  it("names the bound and the options that set it", () => {
    const message = queueFullMessage("aws", 1000, 10);
    expect(message).toContain('plugin "aws"');
    expect(message).toContain("1000 calls open and 10 waiting");
    expect(message).toContain("maxQueuedCalls");
    expect(message).toContain("maxConcurrentStreams");
  });
});
