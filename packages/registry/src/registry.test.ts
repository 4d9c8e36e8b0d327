import { getEventListeners } from "node:events";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { FakeSession } from "./fake-session.test-support.js";
import { addSession, createPluginRegistry, onRegisteredAs, type RegistryEvent } from "./registry.js";

const summary = (event: RegistryEvent) => `${event.type} ${event.session.id} (${event.remaining} left)`;

describe("registry contents and events", () => {
  it("lists names and handles, and get() names the registered plugins when one is missing", () => {
    const registry = createPluginRegistry();
    addSession(registry, new FakeSession("1", "gcp"));
    addSession(registry, new FakeSession("2", "aws"));
    addSession(registry, new FakeSession("3", "aws"));
    expect(registry.names()).toEqual(["aws", "gcp"]);
    expect(registry.list().map((handle) => handle.name)).toEqual(["aws", "gcp"]);
    expect(registry.get("aws").sessions.map((session) => session.id)).toEqual(["2", "3"]);
    expect(registry.sessions()).toHaveLength(3);
    expect(() => registry.get("azure")).toThrow(
      expect.objectContaining({
        code: status.NOT_FOUND,
        details: 'plugin "azure" is not registered; registered: aws, gcp',
      }),
    );
  });

  it("returns the same handle for a name, across reconnects", () => {
    const registry = createPluginRegistry();
    const remove = addSession(registry, new FakeSession("1", "aws"));
    const handle = registry.get("aws");
    remove();
    expect(registry.has("aws")).toBe(false);
    expect(handle.sessions).toEqual([]);
    addSession(registry, new FakeSession("2", "aws"));
    expect(registry.get("aws")).toBe(handle);
    expect(handle.sessions.map((session) => session.id)).toEqual(["2"]);
  });

  it("emits registered and unregistered with the sessions left; removing twice is harmless", () => {
    const registry = createPluginRegistry();
    const seen: string[] = [];
    const offRegistered = registry.on("registered", (event) => seen.push(summary(event)));
    registry.on("unregistered", (event) => seen.push(summary(event)));
    const removeA = addSession(registry, new FakeSession("a", "aws"));
    const removeB = addSession(registry, new FakeSession("b", "aws"));
    removeA();
    removeA();
    offRegistered();
    addSession(registry, new FakeSession("c", "aws"));
    removeB();
    expect(seen).toEqual([
      "registered a (1 left)",
      "registered b (2 left)",
      "unregistered a (1 left)",
      "unregistered b (1 left)",
    ]);
  });

  it("accepts sessions only into registries it made", () => {
    const impostor = { ...createPluginRegistry() };
    expect(() => addSession(impostor, new FakeSession("a"))).toThrow(/createPluginRegistry/);
  });
});

describe("onRegisteredAs()", () => {
  it("tells each listener about registrations of its own name only, until it unsubscribes", () => {
    const registry = createPluginRegistry();
    const seen: string[] = [];
    const offAws = onRegisteredAs(registry, "aws", (event) => seen.push(`aws listener: ${summary(event)}`));
    onRegisteredAs(registry, "gcp", (event) => seen.push(`gcp listener: ${summary(event)}`));
    addSession(registry, new FakeSession("1", "aws"));
    addSession(registry, new FakeSession("2", "gcp"));
    const remove = addSession(registry, new FakeSession("3", "aws"));
    remove(); // removals are not registrations
    offAws();
    offAws(); // harmless
    addSession(registry, new FakeSession("4", "aws"));
    expect(seen).toEqual([
      "aws listener: registered 1 (1 left)",
      "gcp listener: registered 2 (1 left)",
      "aws listener: registered 3 (2 left)",
    ]);
  });

  it("skips a listener that another one unsubscribed during the same registration", () => {
    const registry = createPluginRegistry();
    const seen: string[] = [];
    let offSecond: () => void = () => {};
    onRegisteredAs(registry, "aws", () => {
      seen.push("first");
      offSecond();
    });
    offSecond = onRegisteredAs(registry, "aws", () => seen.push("second"));
    addSession(registry, new FakeSession("1", "aws"));
    expect(seen).toEqual(["first"]);
  });

  it("counts the same function subscribed twice as two subscriptions", () => {
    const registry = createPluginRegistry();
    let calls = 0;
    const listener = () => calls++;
    const off = onRegisteredAs(registry, "aws", listener);
    onRegisteredAs(registry, "aws", listener);
    off();
    addSession(registry, new FakeSession("1", "aws"));
    expect(calls).toBe(1);
  });
});

describe("registry.watch()", () => {
  it("yields every event in order until the signal aborts, then leaves no listener", async () => {
    const registry = createPluginRegistry();
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const event of registry.watch({ signal: controller.signal })) {
        seen.push(summary(event));
        if (seen.length === 3) controller.abort();
      }
    })();
    // The watcher subscribed synchronously, when the loop first asked for an event.
    const remove = addSession(registry, new FakeSession("a", "aws"));
    addSession(registry, new FakeSession("b", "gcp"));
    remove();
    await done;
    expect(seen).toEqual(["registered a (1 left)", "registered b (1 left)", "unregistered a (0 left)"]);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("ends quietly for an already-aborted signal", async () => {
    const registry = createPluginRegistry();
    const events: RegistryEvent[] = [];
    for await (const event of registry.watch({ signal: AbortSignal.abort() })) events.push(event);
    expect(events).toEqual([]);
  });

  it("stops listening when the loop is left early", async () => {
    const registry = createPluginRegistry();
    const iterator = registry.watch()[Symbol.asyncIterator]();
    const next = iterator.next();
    addSession(registry, new FakeSession("a", "aws"));
    expect(summary((await next).value as RegistryEvent)).toBe("registered a (1 left)");
    await iterator.return?.();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});

describe("registry.waitFor()", () => {
  it("resolves at once when the plugin has a session taking calls", async () => {
    const registry = createPluginRegistry();
    addSession(registry, new FakeSession("a", "aws"));
    expect((await registry.waitFor("aws")).name).toBe("aws");
  });

  it("does not count a draining session, and resolves when a live one registers", async () => {
    const registry = createPluginRegistry();
    const draining = new FakeSession("old", "aws");
    draining.accepting = false;
    addSession(registry, draining);
    let resolved = false;
    const waiting = registry.waitFor("aws").then((handle) => {
      resolved = true;
      return handle;
    });
    addSession(registry, new FakeSession("x", "gcp"));
    await Promise.resolve();
    expect(resolved).toBe(false);
    addSession(registry, new FakeSession("new", "aws"));
    const handle = await waiting;
    expect(handle.sessions.map((session) => session.id)).toEqual(["old", "new"]);
  });

  it("rejects with DEADLINE_EXCEEDED after timeoutMs, naming what is registered", async () => {
    const registry = createPluginRegistry();
    addSession(registry, new FakeSession("x", "gcp"));
    const err = await registry.waitFor("aws", { timeoutMs: 5 }).catch((reason: unknown) => reason);
    expect(err).toBeInstanceOf(PluginFrameworkError);
    expect(err).toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: 'plugin "aws" did not register within 5 ms; registered: gcp',
    });
  });

  it("rejects with CANCELLED when the signal aborts, and removes its listener either way", async () => {
    const registry = createPluginRegistry();
    const controller = new AbortController();
    const aborted = registry.waitFor("aws", { signal: controller.signal });
    const found = registry.waitFor("gcp", { signal: controller.signal });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(2);
    addSession(registry, new FakeSession("g", "gcp"));
    await found;
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort(new Error("reconcile ended"));
    await expect(aborted).rejects.toMatchObject({
      code: status.CANCELLED,
      details: 'stopped waiting for plugin "aws"',
      cause: controller.signal.reason,
    });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("rejects at once for an already-aborted signal", async () => {
    const registry = createPluginRegistry();
    await expect(registry.waitFor("aws", { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: status.CANCELLED,
    });
  });
});
