import { describe, expect, it } from "vitest";
import { readBearerToken } from "./bearer-token.js";
import { compilePathPattern, createPathFilter } from "./path-match.js";

describe("allowPaths patterns (Go path.Match)", () => {
  const matches = (pattern: string, path: string) => compilePathPattern(pattern).test(path);

  it("matches whole paths literally", () => {
    expect(
      matches(
        "/pluginframework.v1.PluginFrameworkService/PluginStream",
        "/pluginframework.v1.PluginFrameworkService/PluginStream",
      ),
    ).toBe(true);
    expect(matches("/metrics", "/metrics/extra")).toBe(false);
    expect(matches("/a.b", "/aXb")).toBe(false);
  });

  it("lets * and ? stop at a slash", () => {
    expect(
      matches(
        "/pluginframework.v1.PluginFrameworkService/*",
        "/pluginframework.v1.PluginFrameworkService/PluginStream",
      ),
    ).toBe(true);
    expect(matches("/*", "/a/b")).toBe(false);
    expect(matches("/a?c", "/abc")).toBe(true);
    expect(matches("/a?c", "/a/c")).toBe(false);
  });

  it("supports classes, negation and escapes", () => {
    expect(matches("/v[0-9]", "/v1")).toBe(true);
    expect(matches("/v[^0-9]", "/v1")).toBe(false);
    expect(matches("/v[^0-9]", "/vx")).toBe(true);
    expect(matches("/a\\*", "/a*")).toBe(true);
    expect(matches("/a\\*", "/ab")).toBe(false);
  });

  it("rejects malformed patterns", () => {
    for (const bad of ["/[", "/[]", "/[a-]", "/a\\", "/[-a]"]) {
      expect(() => compilePathPattern(bad), bad).toThrow(/invalid allowPaths pattern/);
    }
  });

  it("allows everything when no pattern is given", () => {
    expect(createPathFilter([])("/anything/at/all")).toBe(true);
    const filter = createPathFilter(["/a", "/b/*"]);
    expect([filter("/a"), filter("/b/c"), filter("/c")]).toEqual([true, true, false]);
  });
});

describe("bearer token parsing (Kubernetes request authenticator)", () => {
  it("reads a bearer token with a case-insensitive scheme", () => {
    expect(readBearerToken("Bearer abc")).toBe("abc");
    expect(readBearerToken("bearer abc")).toBe("abc");
    expect(readBearerToken("  Bearer abc  ")).toBe("abc");
    expect(readBearerToken(["Bearer first", "Bearer second"])).toBe("first");
  });

  it("yields nothing for missing, empty or non-bearer credentials", () => {
    for (const header of [undefined, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Bearer  abc"]) {
      expect(readBearerToken(header), String(header)).toBeUndefined();
    }
  });
});
