import { describe, expect, it } from "vitest";
import { FakeSession } from "./fake-session.test-support.js";
import { MAX_LISTED, registeredText } from "./registered-text.js";
import { compileSelector } from "./selector.js";

const byName = (name: string) => (session: { name: string }) => session.name === name;

describe("registeredText()", () => {
  it("counts identical replicas once and lists the relevant plugin first", () => {
    const sessions = [
      new FakeSession("1", "aws", { version: "1.0.0" }),
      new FakeSession("2", "gcp", { version: "2.0.0" }),
      new FakeSession("3", "gcp", { version: "2.0.0" }),
      new FakeSession("4", "gcp", { version: "2.0.0" }),
    ];
    const text = registeredText(sessions, {
      relevant: byName("gcp"),
      filter: compileSelector(),
      services: false,
    });
    expect(text).toBe("gcp@2.0.0 ×3, aws@1.0.0");
  });

  it("stays short with thousands of sessions", () => {
    const labels = Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`key-${j}`, "v".repeat(60)]));
    const services = Array.from({ length: 20 }, (_, j) => `pkg.v1.Service${j}`);
    const sessions = Array.from(
      { length: 5000 },
      (_, i) => new FakeSession(`${i}`, `plugin-${i}`, { version: `1.0.${i}`, labels, services }),
    );
    const text = registeredText(sessions, {
      relevant: byName("plugin-4999"),
      filter: compileSelector({ version: "^2.0.0" }),
      services: true,
    });
    expect(text.startsWith("plugin-4999@1.0.4999 {")).toBe(true);
    expect(text.endsWith(`and ${5000 - MAX_LISTED} more sessions`)).toBe(true);
    expect(text).toContain("+6 more}");
    expect(text).toContain("+17 more)");
    expect(text.length).toBeLessThan(6000);
  });

  it("marks draining sessions and says (none) when nothing is registered", () => {
    const draining = new FakeSession("1", "aws");
    draining.accepting = false;
    const options = { relevant: byName("aws"), filter: compileSelector(), services: false };
    expect(registeredText([draining], options)).toBe("aws@1.0.0 [draining]");
    expect(registeredText([], options)).toBe("(none)");
  });
});
