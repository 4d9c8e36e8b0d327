import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { nameAuthorizer, proxyHeaderAuthenticator } from "@operator-plugin-framework/auth/operator";
import { connectPlugin, type PluginConnection } from "@operator-plugin-framework/client";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { startTestServer } from "@operator-plugin-framework/testkit";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createGreeter } from "./greeter-impl.js";

// pino's numeric levels, as its JSON lines carry them.
const WARN = 40;
const INFO = 30;

/** A real pino logger writing into memory, and the JSON lines it wrote. */
function pinoLines() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug", base: { app: "pino-test" } },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** Resolves once `match` holds for a line pino has written. */
function nextLine(
  connection: PluginConnection,
  lines: Record<string, unknown>[],
  match: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const check = () => {
      const found = lines.find(match);
      if (found) {
        off();
        resolve(found);
      }
      return found;
    };
    // pino writes synchronously, so every state change has its line by the time listeners run.
    const off = connection.onState(() => void check());
    check();
  });
}

describe("a pino logger passed as is", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("gets the operator's refusal as a pino JSON line: who, which name and why", async () => {
    const operatorLog = pinoLines();
    const server = await startTestServer({
      logger: operatorLog.logger,
      authenticator: proxyHeaderAuthenticator(),
      authorizeName: nameAuthorizer((identity, name) =>
        identity.user === "system:serviceaccount:plugins:aws" && name === "aws"
          ? true
          : { allowed: false, reason: `${identity.user} may not register "${name}"` },
      ),
    });
    cleanups.push(() => server.close());
    const pluginLog = pinoLines();
    const connection = connectPlugin({
      target: server.target,
      name: "gcp",
      headers: { "x-remote-user": "system:serviceaccount:plugins:aws" },
      services: [[GreeterServiceService, createGreeter("gcp").impl]],
      backoff: { initialMs: 20, maxMs: 50 },
      drainGraceMs: 200,
      logger: pluginLog.logger,
    });
    cleanups.push(() => connection.close());

    const rejected = await nextLine(
      connection,
      pluginLog.lines,
      (l) => l.msg === "plugin connection rejected",
    );
    const refusal = operatorLog.lines.find((l) => l.msg === "plugin refused");
    expect(refusal).toMatchObject({
      level: WARN,
      app: "pino-test",
      plugin: "gcp",
      user: "system:serviceaccount:plugins:aws",
      code: status.PERMISSION_DENIED,
      codeName: "PERMISSION_DENIED",
      reason: expect.stringContaining('system:serviceaccount:plugins:aws may not register "gcp"'),
    });
    expect(refusal?.time).toEqual(expect.any(Number));
    expect(refusal?.peer).toEqual(expect.stringContaining("127.0.0.1"));
    // The plugin's side of the same refusal, through its own pino logger.
    expect(rejected).toMatchObject({
      level: WARN,
      plugin: "gcp",
      target: server.target.replace("http://", ""),
      code: status.PERMISSION_DENIED,
      codeName: "PERMISSION_DENIED",
      details: expect.stringContaining('may not register "gcp"'),
    });
  });

  it("gets every failed connection attempt with its reason, then the registration", async () => {
    const dir = await mkdtemp(join(tmpdir(), "opf-pino-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const target = `unix://${join(dir, "operator.sock")}`;
    const { logger, lines } = pinoLines();
    const connection = connectPlugin({
      target,
      name: "aws",
      services: [[GreeterServiceService, createGreeter("aws").impl]],
      backoff: { initialMs: 20, maxMs: 50 },
      drainGraceMs: 200,
      logger,
    });
    cleanups.push(() => connection.close());

    // Nobody listens yet: the attempt fails, and pino says so with the reason.
    const failed = await nextLine(connection, lines, (l) => l.msg === "plugin connection reconnecting");
    expect(failed).toMatchObject({
      level: WARN,
      app: "pino-test",
      plugin: "aws",
      target,
      state: "reconnecting",
      code: status.UNAVAILABLE,
      codeName: "UNAVAILABLE",
      delayMs: expect.any(Number),
      details: expect.any(String),
    });
    expect(String(failed.details).length).toBeGreaterThan(0);

    const server = await startTestServer({ listen: target, logger: pino({ level: "silent" }) });
    cleanups.push(() => server.close());
    await connection.registered();
    const registered = lines.find((l) => l.msg === "plugin connection registered");
    expect(registered).toMatchObject({ level: INFO, plugin: "aws", target, sessionId: expect.any(String) });
    // Every line is pino's own JSON: its numeric level, time and base fields, then ours.
    for (const line of lines) {
      expect(line).toMatchObject({ level: expect.any(Number), time: expect.any(Number), app: "pino-test" });
    }
  });
});
