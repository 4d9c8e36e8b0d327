import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH,
  serviceAccountToken,
  staticToken,
  type TokenSource,
} from "./index.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "opf-token-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("serviceAccountToken", () => {
  it("reads and trims the token file", async () => {
    const path = join(dir, "token");
    await writeFile(path, "  eyJ.first.token\n");
    await expect(serviceAccountToken({ path }).getToken()).resolves.toBe("eyJ.first.token");
  });

  it("picks up a rotated token on the next call, as the kubelet's atomic rename replaces it", async () => {
    const path = join(dir, "token");
    await writeFile(path, "old-token");
    const source = serviceAccountToken({ path });
    await expect(source.getToken()).resolves.toBe("old-token");
    await writeFile(join(dir, "token.new"), "new-token\n");
    await rename(join(dir, "token.new"), path);
    await expect(source.getToken()).resolves.toBe("new-token");
  });

  it("says which file is missing and what to do, with FAILED_PRECONDITION", async () => {
    const path = join(dir, "absent");
    const error = await serviceAccountToken({ path })
      .getToken()
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "PluginFrameworkError", code: status.FAILED_PRECONDITION });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/does not exist; mount a ServiceAccount token/);
  });

  it("refuses an empty or blank token file", async () => {
    const path = join(dir, "token");
    await writeFile(path, " \n\t");
    await expect(serviceAccountToken({ path }).getToken()).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      message: expect.stringContaining("is empty"),
    });
  });

  it("defaults to the standard ServiceAccount path and describes itself without the token", async () => {
    expect(DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH).toBe("/var/run/secrets/kubernetes.io/serviceaccount/token");
    expect(serviceAccountToken().describe()).toBe(
      `ServiceAccount token file ${DEFAULT_SERVICE_ACCOUNT_TOKEN_PATH}`,
    );
  });
});

describe("staticToken", () => {
  it("returns the trimmed value and never shows it in describe()", async () => {
    const source = staticToken(" secret-value \n");
    await expect(source.getToken()).resolves.toBe("secret-value");
    expect(source.describe()).not.toContain("secret-value");
  });

  it("refuses an empty token with INVALID_ARGUMENT", () => {
    expect(() => staticToken("  ")).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT }));
  });
});

describe("custom TokenSource", () => {
  it("is a plain object with an async getToken", async () => {
    let calls = 0;
    const source: TokenSource = {
      getToken: async () => `token-${++calls}`,
      describe: () => "counter",
    };
    await expect(source.getToken()).resolves.toBe("token-1");
    await expect(source.getToken()).resolves.toBe("token-2");
  });
});
