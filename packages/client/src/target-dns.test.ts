// A plain host-name target (not dns+) is resolved by grpc-js, whose resolver
// retries a failed resolution with the channel's reconnect backoff (1 s
// growing to 120 s by default). The client sets that backoff to its own, so a
// name that resolves late is tried again at the plugin's pace; this test
// fails if those channel options go (or grpc-js stops honouring them).
import dns from "node:dns";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { quietLogger } from "@operator-plugin-framework/wire";
import { afterEach, describe, expect, it } from "vitest";
import { connectPlugin } from "./connect-plugin.js";
import type { ConnectionState } from "./plugin-connection.js";
import { startFakeOperator } from "./test-support/fake-operator.js";
import { noopGreeter } from "./test-support/noop-greeter.js";

const realLookup = dns.promises.lookup;

describe("a host-name target whose name does not resolve yet", () => {
  afterEach(() => {
    dns.promises.lookup = realLookup;
  });

  it("is resolved again with the backoff, and connects once the name resolves", async () => {
    const operator = await startFakeOperator();
    const port = new URL(operator.target).port;
    // grpc-js's resolver asks node:dns; this name fails twice, then resolves to the operator.
    let failuresLeft = 2;
    const asked: number[] = [];
    dns.promises.lookup = (async (host: string, options: dns.LookupAllOptions) => {
      if (host !== "operator-late.test") return realLookup(host, options);
      asked.push(Date.now());
      if (failuresLeft-- > 0)
        throw Object.assign(new Error("getaddrinfo ENOTFOUND operator-late.test"), { code: "ENOTFOUND" });
      return [{ address: "127.0.0.1", family: 4 }];
    }) as typeof dns.promises.lookup;
    const failures: ConnectionState[] = [];
    const plugin = connectPlugin({
      name: "aws",
      target: `http://operator-late.test:${port}`,
      services: [[GreeterServiceService, noopGreeter]],
      backoff: { initialMs: 20, maxMs: 50 },
      logger: quietLogger,
    });
    plugin.onState((state) => state.state === "reconnecting" && failures.push(state));
    try {
      const side = await operator.accept();
      await side.next("register");
      side.accept("session-1");
      await plugin.registered();
      expect(asked.length).toBeGreaterThanOrEqual(3);
      // grpc-js's default backoff waits at least 800 ms (1 s, jitter ±20 %) before a retry; ours 50 ms at most.
      const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
      expect(Math.max(...gaps)).toBeLessThan(750);
      expect(failures[0]).toMatchObject({ details: expect.stringContaining("operator-late.test") });
    } finally {
      await plugin.close();
      await operator.close();
    }
  });
});
