import { describe, expect, it } from "vitest";
import { parseServiceAccountUser } from "./index.js";

describe("parseServiceAccountUser", () => {
  it("splits a ServiceAccount user name", () => {
    expect(parseServiceAccountUser("system:serviceaccount:plugins:aws")).toEqual({
      namespace: "plugins",
      name: "aws",
    });
  });

  it.each([
    "alice",
    "system:serviceaccount:plugins",
    "system:serviceaccount::aws",
    "system:serviceaccount:a:b:c",
    "system:node:n1",
  ])("returns undefined for %s", (user) => {
    expect(parseServiceAccountUser(user)).toBeUndefined();
  });
});
