import type { connectivityState } from "@grpc/grpc-js";
import type { ChannelCall, ChannelInterface, ChannelRef } from "./grpc-internals.js";

/**
 * A grpc-js Channel that is not one connection: its calls go through tunnel
 * sessions that something else owns (a plugin session, the sessions of one
 * plugin name, or a plugin's sessions to the operators). Generated clients
 * and interceptors run on it unchanged. What a connection would answer and
 * this cannot (watching its state, channelz) is answered here, the same way
 * for every such channel; subclasses say how a call finds its session.
 */
export abstract class VirtualChannel implements ChannelInterface {
  abstract createCall(...args: Parameters<ChannelInterface["createCall"]>): ChannelCall;

  /** Names the channel in errors and as grpc-js's target (`plugin:dns`, say). */
  abstract getTarget(): string;

  abstract getConnectivityState(): connectivityState;

  /** What to wait on instead of the connectivity state: ends the error of `watchConnectivityState`. */
  protected abstract readonly readinessHint: string;

  /** Does nothing: the sessions belong to their owner, and closing a client must not end them. */
  close(): void {}

  /**
   * Fails at once (on the next tick, as grpc-js calls back): there is no
   * connection whose state changes. This is what `client.waitForReady()`
   * hears when the channel is not READY.
   */
  watchConnectivityState(
    _current: connectivityState,
    _deadline: Date | number,
    callback: (error?: Error) => void,
  ): void {
    const message = `connectivity state watching is not supported for ${this.getTarget()}, which is not one connection; ${this.readinessHint}`;
    process.nextTick(() => callback(new Error(message)));
  }

  /** A placeholder: channelz tracks connections, and this channel has none of its own. */
  getChannelzRef(): ChannelRef {
    return { kind: "channel", id: 0, name: this.getTarget() } as ChannelRef;
  }
}
