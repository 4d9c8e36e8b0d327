import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { describe, expect, it } from "vitest";
import { hostTestBed } from "./host-service.test-support.js";

const EMPTY_CALL = "/testing.v1.TestService/EmptyCall";
const EMPTY = Buffer.alloc(0);
const { server, plugin } = hostTestBed();

/** A hook whose answers the test gives by hand, one per call, in order. */
function manualHook() {
  const pending: ((allowed: boolean) => void)[] = [];
  let arrived: () => void = () => {};
  return {
    hook: () =>
      new Promise<boolean>((resolve) => {
        pending.push(resolve);
        arrived();
      }),
    /** Resolves once a call waits for an answer, with the function that gives it. */
    next: () =>
      pending.length > 0
        ? Promise.resolve(pending.shift()!)
        : new Promise<(allowed: boolean) => void>((resolve) => {
            arrived = () => resolve(pending.shift()!);
          }),
  };
}

describe("authorizeHostCall", () => {
  it("lets one identity call and refuses another with PERMISSION_DENIED before the handler runs", async () => {
    const asked: unknown[] = [];
    const { address, log } = await server({
      authorizeHostCall: async (request) => {
        asked.push(request);
        return request.identity?.user === "alice";
      },
    });
    const alice = plugin(address, "alice");
    const mallory = plugin(address, "mallory");
    const aliceAck = await alice.register(2);
    await mallory.register(2);
    alice.call(2, EMPTY_CALL, [EMPTY]);
    mallory.call(2, EMPTY_CALL, [EMPTY]);
    expect(await alice.status(2)).toMatchObject({ code: status.OK });
    expect(await mallory.status(2)).toMatchObject({
      code: status.PERMISSION_DENIED,
      message: `plugin "p" (identity mallory) may not call host service method ${EMPTY_CALL}`,
    });
    expect(log.contexts.map((c) => c.identity?.user)).toEqual(["alice"]);
    expect(asked).toContainEqual({
      pluginName: "p",
      identity: { user: "alice", groups: [] },
      sessionId: aliceAck.sessionId,
      method: EMPTY_CALL,
    });
  });

  it("refuses the call when the hook throws: with its status if it has one, else INTERNAL", async () => {
    const { address, log } = await server({
      authorizeHostCall: ({ identity }) => {
        if (identity?.user === "alice")
          throw new PluginFrameworkError(status.UNAVAILABLE, "policy not loaded");
        throw new Error("bug in the hook");
      },
    });
    const alice = plugin(address, "alice");
    const bob = plugin(address, "bob");
    await alice.register(2);
    await bob.register(2);
    alice.call(2, EMPTY_CALL, [EMPTY]);
    bob.call(2, EMPTY_CALL, [EMPTY]);
    expect(await alice.status(2)).toMatchObject({ code: status.UNAVAILABLE, message: "policy not loaded" });
    expect(await bob.status(2)).toMatchObject({
      code: status.INTERNAL,
      message: `authorization of ${EMPTY_CALL} failed on the operator`,
    });
    expect(log.contexts).toEqual([]);
  });

  it("holds what the plugin sent while the hook decides, and runs the handler only once allowed", async () => {
    const manual = manualHook();
    const { address, log } = await server({ authorizeHostCall: manual.hook });
    const raw = plugin(address);
    await raw.register(2);
    raw.call(2, EMPTY_CALL, [EMPTY]);
    const allow = await manual.next();
    // Request and half_close have arrived; the handler has not seen them.
    expect(log.contexts).toEqual([]);
    allow(true);
    expect(await raw.status(2)).toMatchObject({ code: status.OK });
    expect(log.contexts).toHaveLength(1);
  });

  it("never runs the handler of a call cancelled while the hook decides", async () => {
    const manual = manualHook();
    const { address, log } = await server({ authorizeHostCall: manual.hook });
    const raw = plugin(address);
    await raw.register(2);
    raw.call(2, EMPTY_CALL, [EMPTY]);
    const allow = await manual.next();
    raw.send({ streamId: 2, kind: { $case: "cancel", value: { code: status.CANCELLED, message: "" } } });
    // A later call, allowed too, proves the cancel was processed before the answer.
    raw.call(4, EMPTY_CALL, [EMPTY]);
    const allowNext = await manual.next();
    allow(true);
    allowNext(true);
    expect(await raw.status(4)).toMatchObject({ code: status.OK });
    expect(raw.of(2)).toEqual([]);
    expect(log.contexts).toHaveLength(1);
  });
});
