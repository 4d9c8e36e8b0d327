import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const main = fileURLToPath(new URL("./main.ts", import.meta.url));

describe("the demo", () => {
  it("runs the operator and two plugins, prints registrations, typed call results and a refused impostor, and exits 0", async () => {
    const child = spawn(process.execPath, ["--conditions=opf-source", "--import", "tsx", main], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    // The demo has its own 30 s guard; this bound only keeps a broken demo from hanging the suite.
    const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    const [code] = (await once(child, "exit")) as [number | null];
    clearTimeout(killer);

    expect(output).toContain("✔ demo finished");
    expect(code, output).toBe(0);
    // The identity comes from the proxy's headers, after a TokenReview against the fake API.
    expect(output).toContain('registered plugin "aws" v1.0.0 as system:serviceaccount:plugins:aws');
    expect(output).toContain('registered plugin "gcp" v1.0.0 as system:serviceaccount:plugins:gcp');
    expect(output).toMatch(
      /registry\.get\("aws"\)\.call\(SayHello.*→ "hello Ada" \(served by aws\/pid-\d+\)/,
    );
    expect(output).toMatch(
      /registry\.get\("gcp"\)\.call\(SayHello.*→ "hello Grace" \(served by gcp\/pid-\d+\)/,
    );
    expect(output).toContain('["hello Linus #1","hello Linus #2","hello Linus #3"]');
    // An impostor with gcp's token may not register as "aws": the operator's
    // SubjectAccessReview refuses it, and the refusal reaches it through the proxy.
    expect(output).toContain("impostor");
    expect(output).toMatch(
      /refused, through the proxy: PERMISSION_DENIED\n.*"system:serviceaccount:plugins:gcp" may not register plugins\.pluginframework\.io "aws"/,
    );
    expect(output).toMatch(
      /registry\.get\("aws"\) is still the real plugin → "hello Ada" \(served by aws\/pid-\d+\)/,
    );
    expect(output).toContain('NOT_FOUND: plugin "azure" is not registered; registered: aws, gcp');
    expect(output).toContain('operator saw: unregistered "aws"');
    expect(output).toContain('operator saw: unregistered "gcp"');
    expect(output).toContain("operator stopped and exited 0");
  }, 45_000);
});
