import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { RegistrationTurns } from "./registration-turns.js";
import { StreamAdmission } from "./stream-admission.js";

/** Turns whose "next event-loop turn" runs when the test says so. */
function manualTurns(perTurn: number) {
  const pending: (() => void)[] = [];
  const turns = new RegistrationTurns({ perTurn, defer: (run) => pending.push(run) });
  /** Runs one deferred turn, then lets the released waiters' continuations run. */
  const nextTurn = async () => {
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { turns, pending, nextTurn };
}

describe("RegistrationTurns", () => {
  it("admits perTurn at once, and the rest of a burst in batches of perTurn, first come first served", async () => {
    const { turns, nextTurn } = manualTurns(3);
    const admitted: number[] = [];
    for (let i = 0; i < 8; i++) void turns.take().then(() => admitted.push(i));
    await Promise.resolve();
    expect(admitted).toEqual([0, 1, 2]);
    expect(turns.waitingCount).toBe(5);
    await nextTurn();
    expect(admitted).toEqual([0, 1, 2, 3, 4, 5]);
    // The turn that released 3..5 is full: one more waits too.
    void turns.take().then(() => admitted.push(8));
    await nextTurn();
    expect(admitted).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(turns.waitingCount).toBe(0);
  });

  it("schedules no turn while the loop is quiet, and one per turn while registrations come", async () => {
    const { turns, pending, nextTurn } = manualTurns(2);
    expect(pending).toHaveLength(0);
    void turns.take();
    expect(pending).toHaveLength(1);
    void turns.take();
    void turns.take();
    expect(pending).toHaveLength(1);
    await nextTurn(); // releases the third
    expect(pending).toHaveLength(1);
    await nextTurn(); // nothing admitted in it: no more turns
    expect(pending).toHaveLength(0);
    // A new turn has room again.
    let admitted = false;
    void turns.take().then(() => {
      admitted = true;
    });
    await Promise.resolve();
    expect(admitted).toBe(true);
  });

  it("on the real event loop, lets other callbacks run between batches", async () => {
    const turns = new RegistrationTurns({ perTurn: 10 });
    const order: string[] = [];
    const all = Array.from({ length: 30 }, (_, i) =>
      turns.take().then(() => {
        order.push(`r${i}`);
        // Queued during the first batch: it runs after the second batch, before the third.
        if (i === 0) setImmediate(() => order.push("other"));
      }),
    );
    await Promise.all(all);
    expect(order.indexOf("other")).toBe(20);
    expect(order).toHaveLength(31);
  });
});

describe("StreamAdmission waiting for its turn", () => {
  const call = { metadata: new Metadata(), getPeer: () => "ipv4:127.0.0.1:1" };

  it("resolves only on a turn, and says so when the register timeout finds it waiting", async () => {
    const { turns, nextTurn } = manualTurns(1);
    await turns.take(); // this turn is full
    const admission = new StreamAdmission(
      { authenticator: undefined, authorizeName: undefined, turns },
      call,
    );
    let admitted = false;
    const done = admission.admit("aws").then(() => {
      admitted = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(admitted).toBe(false);
    expect(admission.timedOut(10_000)).toEqual({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(
        /^register for plugin "aws" was admitted, but the operator is admitting/,
      ),
    });
    await nextTurn();
    await done;
    expect(admitted).toBe(true);
  });
});
