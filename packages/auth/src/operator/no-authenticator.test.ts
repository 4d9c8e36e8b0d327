import { afterEach, describe, expect, it, vi } from "vitest";
import { noAuthenticator } from "./index.js";

const context = { headers: { "x-remote-user": "spoofed" }, peer: "127.0.0.1:1", path: "/p" };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("noAuthenticator", () => {
  it("admits everyone as system:anonymous and ignores identity headers", async () => {
    const authenticator = noAuthenticator({ logger: { warn: () => {} } });
    expect(authenticator.mode).toBe("none");
    await expect(authenticator.authenticate(context)).resolves.toEqual({
      user: "system:anonymous",
      groups: ["system:unauthenticated"],
    });
  });

  it("uses a configured development identity", async () => {
    const authenticator = noAuthenticator({ logger: { warn: () => {} }, user: "dev", groups: ["devs"] });
    await expect(authenticator.authenticate(context)).resolves.toEqual({ user: "dev", groups: ["devs"] });
  });

  it("warns once through the injected logger, not per stream", async () => {
    const warn = vi.fn();
    const authenticator = noAuthenticator({ logger: { warn } });
    await authenticator.authenticate(context);
    await authenticator.authenticate(context);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatch(/authentication is DISABLED/);
  });

  it("warns on console.warn when no logger is given", () => {
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    noAuthenticator();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]?.[0]).toMatch(/^WARNING: plugin authentication is DISABLED/);
  });
});
