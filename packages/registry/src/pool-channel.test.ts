import { connectivityState, makeGenericClientConstructor, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { SessionPicker } from "./balancer.js";
import { EchoService, FakeSession } from "./fake-session.test-support.js";
import { addSession, createPluginRegistry } from "./registry.js";

function registryWith(sessions: FakeSession[], picker?: SessionPicker) {
  const registry = createPluginRegistry(picker ? { picker } : {});
  for (const session of sessions) addSession(registry, session);
  return registry;
}

async function callOnce(sessions: FakeSession[], picker?: SessionPicker): Promise<FakeSession> {
  const handle = registryWith(sessions, picker).get("fake");
  await handle.call(EchoService.unary, { text: "hi" });
  return sessions.find((session) => session.calls.length > 0)!;
}

describe("PoolChannel: which session a call goes to", () => {
  it("prefers a fresh session to a retiring one", async () => {
    const retiring = new FakeSession("old");
    retiring.retiring = true;
    const fresh = new FakeSession("new");
    const handle = registryWith([retiring, fresh]).get("fake");
    for (let i = 0; i < 5; i++) await handle.call(EchoService.unary, { text: "hi" });
    expect(fresh.calls).toHaveLength(5);
    expect(retiring.calls).toHaveLength(0);
  });

  it("still uses a retiring session when it is the only one taking calls", async () => {
    const retiring = new FakeSession("old");
    retiring.retiring = true;
    const draining = new FakeSession("gone");
    draining.accepting = false;
    expect(await callOnce([draining, retiring])).toBe(retiring);
  });

  it("never sends a call to a draining session", async () => {
    const draining = new FakeSession("gone");
    draining.accepting = false;
    const live = new FakeSession("live");
    // Even a picker that would choose the draining session cannot see it.
    const seen: string[][] = [];
    const picker: SessionPicker = (sessions) => {
      seen.push(sessions.map((session) => session.id));
      return sessions[0]!;
    };
    const other = new FakeSession("other");
    await callOnce([draining, live, other], picker);
    expect(seen).toEqual([["live", "other"]]);
    expect(draining.calls).toHaveLength(0);
  });

  it("gives the picker only fresh sessions, and the affinity key", async () => {
    const sessions = ["a", "b", "c"].map((id) => new FakeSession(id));
    sessions[1]!.retiring = true;
    const seen: { ids: string[]; key: string | undefined }[] = [];
    const picker: SessionPicker = (candidates, key) => {
      seen.push({ ids: candidates.map((session) => session.id), key });
      return candidates.at(-1)!;
    };
    const handle = registryWith(sessions, picker).get("fake");
    await handle.service(EchoService, { affinityKey: "tenant" }).unary({ text: "x" });
    expect(seen).toEqual([{ ids: ["a", "c"], key: "tenant" }]);
    expect(sessions[2]!.calls).toHaveLength(1);
  });

  it("fails a call with UNAVAILABLE once no session takes calls, and reports TRANSIENT_FAILURE", async () => {
    const draining = new FakeSession("gone");
    const handle = registryWith([draining]).get("fake");
    const client = handle.client(grpcClientFor());
    draining.accepting = false;
    await expect(handle.call(EchoService.unary, { text: "x" })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: 'plugin "fake" has no live session',
    });
    expect(client.getChannel().getConnectivityState(false)).toBe(connectivityState.TRANSIENT_FAILURE);
    draining.accepting = true;
    expect(client.getChannel().getConnectivityState(false)).toBe(connectivityState.READY);
    client.close();
  });
});

function grpcClientFor() {
  return makeGenericClientConstructor(EchoService, "Echo");
}
