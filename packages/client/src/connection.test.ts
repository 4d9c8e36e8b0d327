import { createHook } from "node:async_hooks";
import { getEventListeners } from "node:events";
import { status } from "@grpc/grpc-js";
import { GreeterServiceService } from "@operator-plugin-framework/proto/example";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ConnectPluginOptions, connectPlugin } from "./connect-plugin.js";
import type { ConnectionState } from "./plugin-connection.js";
import { startFakeOperator } from "./test-support/fake-operator.js";
import { noopGreeter } from "./test-support/noop-greeter.js";

const services: ConnectPluginOptions["services"] = [[GreeterServiceService, noopGreeter]];
// Nothing listens on port 1: every attempt is refused at once.
const NOWHERE = "http://127.0.0.1:1";

function nextState(
  connection: { onState(listener: (state: ConnectionState) => void): () => void },
  kind: ConnectionState["state"],
): Promise<ConnectionState> {
  return new Promise((resolve) => {
    const off = connection.onState((state) => {
      if (state.state !== kind) return;
      off();
      resolve(state);
    });
  });
}

describe("connection lifecycle", () => {
  let operator: Awaited<ReturnType<typeof startFakeOperator>>;
  beforeEach(async () => {
    operator = await startFakeOperator();
  });
  afterEach(() => operator.close());

  it("goes connecting → registered → reconnecting (backing off) → closed", async () => {
    const plugin = connectPlugin({
      name: "aws",
      target: operator.target,
      services,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    expect(plugin.state).toMatchObject({ state: "connecting", attempt: 1 });
    expect(plugin.isRegistered).toBe(false);

    const side = await operator.accept();
    await side.next("register");
    side.accept("session-1");
    await plugin.registered();
    expect(plugin.isRegistered).toBe(true);
    expect(plugin.state).toMatchObject({ state: "registered", sessionId: "session-1" });

    const backingOff = nextState(plugin, "reconnecting");
    side.end(status.UNAVAILABLE, "operator restarting");
    const state = await backingOff;
    expect(state).toMatchObject({ code: status.UNAVAILABLE, details: "operator restarting" });
    expect(state.state === "reconnecting" && state.delayMs).toBeLessThanOrEqual(60_000);
    expect(plugin.isRegistered).toBe(false);
    expect([...plugin.states.values()]).toEqual([state]);

    // close() cuts the backoff short: without that this would wait up to a minute.
    await plugin.close();
    expect(plugin.state).toEqual({ state: "closed", target: "" });
    expect(plugin.states.size).toBe(0);
  });

  it("rejects registered() with CANCELLED as soon as closing starts, and after", async () => {
    const plugin = connectPlugin({ name: "aws", target: NOWHERE, services, backoff: { initialMs: 60_000 } });
    const order: string[] = [];
    const waiting = plugin.registered().catch((err: unknown) => {
      order.push("rejected");
      throw err;
    });
    const closing = plugin.close();
    expect(plugin.close()).toBe(closing);
    await expect(waiting).rejects.toMatchObject({ code: status.CANCELLED });
    await expect(plugin.registered()).rejects.toMatchObject({ code: status.CANCELLED });
    await closing;
    order.push("closed");
    expect(order).toEqual(["rejected", "closed"]);
    await expect(plugin.registered()).rejects.toThrow(/closed; call connectPlugin\(\) again/);
  });

  it("watch() yields every change from then on and ends after the final closed state", async () => {
    const plugin = connectPlugin({ name: "aws", target: operator.target, services });
    const watched = (async () => {
      const seen: ConnectionState[] = [];
      for await (const state of plugin.watch()) seen.push(state);
      return seen;
    })();
    const side = await operator.accept();
    await side.next("register");
    side.accept("session-1");
    await plugin.registered();
    await plugin.close();
    const address = operator.target.slice("http://".length);
    expect(await watched).toEqual([
      { state: "registered", sessionId: "session-1", target: address },
      { state: "closed", target: address },
      { state: "closed", target: "" },
    ]);
    // Started after close, it ends at once.
    for await (const state of plugin.watch()) throw new Error(`unexpected ${state.state}`);
  });

  it("watch() stops delivering once the loop breaks", async () => {
    const plugin = connectPlugin({ name: "aws", target: operator.target, services });
    const first = (async () => {
      for await (const state of plugin.watch()) return state;
      return undefined;
    })();
    const side = await operator.accept();
    await side.next("register");
    side.accept();
    expect(await first).toMatchObject({ state: "registered" });
    await plugin.close();
  });
});

describe("connectPlugin({ signal })", () => {
  it("removes its abort listener on close: 12 cycles on one signal leave none, and no warning", async () => {
    const controller = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      for (let cycle = 0; cycle < 12; cycle++) {
        const plugin = connectPlugin({ name: "aws", target: NOWHERE, services, signal: controller.signal });
        expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
        await plugin.close();
        expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
      }
      // Warnings are emitted on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });

  it("closes the connection when the signal aborts", async () => {
    const controller = new AbortController();
    const plugin = connectPlugin({ name: "aws", target: NOWHERE, services, signal: controller.signal });
    const closed = nextState(plugin, "closed");
    controller.abort();
    await expect(plugin.registered()).rejects.toMatchObject({ code: status.CANCELLED });
    expect(await closed).toEqual({ state: "closed", target: "127.0.0.1:1" });
    await plugin.close();
    expect(plugin.state).toEqual({ state: "closed", target: "" });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("starts closed, and dials nothing, with a signal already aborted", async () => {
    const plugin = connectPlugin({ name: "aws", target: NOWHERE, services, signal: AbortSignal.abort() });
    expect(plugin.state).toEqual({ state: "closed", target: "" });
    expect(plugin.states.size).toBe(0);
    await expect(plugin.registered()).rejects.toMatchObject({ code: status.CANCELLED });
    await plugin.close();
  });
});

describe("close() releases everything", () => {
  /**
   * Tracks every timer and socket created while it is on, and forgets each one
   * once it is freed. Precise where counting handles is not: a timer that
   * something else armed earlier and that fires meanwhile cannot mask a leak.
   * An unref'd timer is left out: it cannot keep the process alive (grpc-js
   * leaves its subchannel's reconnect timer so after a channel closes).
   */
  function trackResources() {
    const live = new Map<number, { type: string; resource: { hasRef?: () => boolean } }>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type === "Timeout" || type === "TCPWRAP") live.set(id, { type, resource });
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    const holding = () =>
      [...live.values()].filter(({ resource }) => resource.hasRef?.() ?? true).map(({ type }) => type);
    return {
      /** What still holds the process, once nothing does or after 500 turns (libuv frees a handle a turn or two after close). */
      async settled(): Promise<string[]> {
        for (let turn = 0; turn < 500 && holding().length > 0; turn++) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        hook.disable();
        return holding();
      },
    };
  }

  it("leaves no timer or socket of a registered session, its keepalive or its backoff", async () => {
    const operator = await startFakeOperator();
    const resources = trackResources();
    const plugin = connectPlugin({
      name: "aws",
      target: operator.target,
      services,
      keepalive: { intervalMs: 50, timeoutMs: 60_000 },
      backoff: { initialMs: 60_000 },
    });
    const side = await operator.accept();
    await side.next("register");
    side.accept();
    await plugin.registered();
    // Pings are flowing, so the liveness timer is armed.
    await side.next("ping");
    await plugin.close();
    await operator.close();
    expect(await resources.settled()).toEqual([]);
  });

  it("leaves no timer of a link backing off", async () => {
    const resources = trackResources();
    const plugin = connectPlugin({ name: "aws", target: NOWHERE, services, backoff: { initialMs: 60_000 } });
    await nextState(plugin, "reconnecting");
    await plugin.close();
    expect(await resources.settled()).toEqual([]);
  });
});
