import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { quietLogger } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type ConnectPluginOptions, connectPlugin } from "./connect-plugin.js";
import type { ConnectionState, PluginConnection } from "./plugin-connection.js";
import { startFakeOperator } from "./test-support/fake-operator.js";
import { noopGreeter } from "./test-support/noop-greeter.js";

const services: ConnectPluginOptions["services"] = [[GreeterServiceService, noopGreeter]];
// Longer than any test here: a retry that waited for the next regular resolution would time the test out.
const NEVER_AGAIN_MS = 600_000;

/** The first `count` states (of any target) that match. */
function states(
  connection: PluginConnection,
  count: number,
  match: (state: ConnectionState) => boolean,
): Promise<ConnectionState[]> {
  const seen: ConnectionState[] = [];
  return new Promise((resolve) => {
    const off = connection.onState((state) => {
      if (!match(state)) return;
      seen.push(state);
      if (seen.length === count) {
        off();
        resolve(seen);
      }
    });
  });
}

describe("a dns+ target whose name does not resolve", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("reports reconnecting with the host name and the resolver's error, retried with the backoff", async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    const plugin = connectPlugin({
      name: "aws",
      // .invalid never resolves (RFC 6761), through the system resolver.
      target: "dns+https://operator.invalid:8443",
      services,
      backoff: { initialMs: 20, maxMs: 40 },
      resolveIntervalMs: NEVER_AGAIN_MS,
      logger: { ...quietLogger, warn: (obj, msg) => void lines.push({ obj: obj as never, msg }) },
    });
    cleanups.push(() => plugin.close());
    const failures = await states(plugin, 3, (s) => s.target === "operator.invalid:8443");

    for (const failure of failures) {
      expect(failure).toMatchObject({ state: "reconnecting", code: status.UNAVAILABLE });
      expect(failure.state === "reconnecting" && failure.delayMs).toBeLessThanOrEqual(40);
      expect(failure.state === "reconnecting" && failure.details).toMatch(
        /resolving the operator's host name "operator\.invalid" failed: .*ENOTFOUND/,
      );
    }
    expect(plugin.states.get("operator.invalid:8443")).toMatchObject({ state: "reconnecting" });
    // Every failure is a warning a person can act on, as a failed connection attempt is.
    expect(lines[0]).toMatchObject({
      msg: "plugin connection reconnecting",
      obj: { plugin: "aws", target: "operator.invalid:8443", codeName: "UNAVAILABLE" },
    });
    // registered() says why it gave up: the name, not "no operator address yet".
    await expect(plugin.registered({ timeoutMs: 1 })).rejects.toThrow(
      /operator\.invalid:8443 \(reconnecting; last failure: UNAVAILABLE: resolving the operator's host name "operator\.invalid" failed/,
    );
    // Closed, nothing is left reconnecting: /readyz and watchers see every target closed.
    await plugin.close();
    expect(plugin.states.size).toBe(0);
    expect(plugin.state).toEqual({ state: "closed", target: "" });
  });

  it("connects as soon as the name resolves, not at the next regular resolution", async () => {
    const operator = await startFakeOperator();
    cleanups.push(() => operator.close());
    const port = new URL(operator.target).port;
    const asked: string[] = [];
    const answers: (() => Promise<string[]>)[] = [
      () =>
        Promise.reject(Object.assign(new Error("queryA ESERVFAIL operator-headless"), { code: "ESERVFAIL" })),
      () => Promise.resolve([]),
      () => Promise.resolve(["127.0.0.1"]),
    ];
    const plugin = connectPlugin({
      name: "aws",
      target: `dns+http://operator-headless:${port}`,
      services,
      backoff: { initialMs: 10, maxMs: 20 },
      resolveIntervalMs: NEVER_AGAIN_MS,
      resolve: (host) => {
        asked.push(host);
        const next = answers.shift();
        return next ? next() : Promise.resolve(["127.0.0.1"]);
      },
      logger: quietLogger,
    });
    cleanups.push(() => plugin.close());
    const [serverFail, empty] = await states(plugin, 2, (s) => s.target === `operator-headless:${port}`);
    expect(serverFail?.state === "reconnecting" && serverFail.details).toContain(
      'resolving the operator\'s host name "operator-headless" failed: queryA ESERVFAIL operator-headless',
    );
    expect(empty?.state === "reconnecting" && empty.details).toContain("it resolved to no address");

    const side = await operator.accept();
    await side.next("register");
    side.accept("session-1");
    await plugin.registered();
    expect(asked).toEqual(["operator-headless", "operator-headless", "operator-headless"]);
    // Resolved: the name's failure is gone; the address it resolved to has the state.
    expect([...plugin.states.keys()]).toEqual([`127.0.0.1:${port}`]);
  });

  it("keeps the sessions it has when a later resolution fails", async () => {
    const operator = await startFakeOperator();
    cleanups.push(() => operator.close());
    const port = new URL(operator.target).port;
    let fail = false;
    const plugin = connectPlugin({
      name: "aws",
      target: `dns+http://operator-headless:${port}`,
      services,
      backoff: { initialMs: 10, maxMs: 20 },
      resolveIntervalMs: 20,
      resolve: async () => {
        if (fail) throw new Error("getaddrinfo EAI_AGAIN operator-headless");
        return ["127.0.0.1"];
      },
      logger: quietLogger,
    });
    cleanups.push(() => plugin.close());
    const side = await operator.accept();
    await side.next("register");
    side.accept("session-1");
    await plugin.registered();

    fail = true;
    await states(plugin, 2, (s) => s.target === `operator-headless:${port}`);
    expect(plugin.isRegistered).toBe(true);
    expect(plugin.states.get(`127.0.0.1:${port}`)).toMatchObject({ state: "registered" });
  });
});
