import { Client, connectivityState } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { ChannelCall } from "./grpc-internals.js";
import { VirtualChannel } from "./virtual-channel.js";

class TestChannel extends VirtualChannel {
  protected readonly readinessHint = "wait for the test's own signal instead";
  state: connectivityState = connectivityState.READY;

  createCall(): ChannelCall {
    throw new Error("not used");
  }

  getTarget(): string {
    return "test:channel";
  }

  getConnectivityState(): connectivityState {
    return this.state;
  }
}

const waitForReady = (client: Client) =>
  new Promise<Error | undefined>((resolve) => client.waitForReady(Date.now() + 60_000, resolve));

describe("VirtualChannel", () => {
  it("refuses to watch its state on the next tick, naming itself and what to wait on instead", async () => {
    const channel = new TestChannel();
    let heard: Error | undefined;
    channel.watchConnectivityState(connectivityState.IDLE, Date.now() + 60_000, (err) => {
      heard = err;
    });
    expect(heard).toBeUndefined(); // never synchronously: grpc-js callers expect a later callback
    await new Promise((resolve) => process.nextTick(resolve));
    expect(heard?.message).toBe(
      "connectivity state watching is not supported for test:channel, which is not one connection; " +
        "wait for the test's own signal instead",
    );
  });

  it("lets a client's waitForReady succeed when READY and fail at once, not at the deadline, when not", async () => {
    const channel = new TestChannel();
    const client = new Client("unused", null as never, { channelOverride: channel });
    expect(await waitForReady(client)).toBeUndefined();
    channel.state = connectivityState.TRANSIENT_FAILURE;
    const started = Date.now();
    expect((await waitForReady(client))?.message).toBe("Failed to connect before the deadline");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
