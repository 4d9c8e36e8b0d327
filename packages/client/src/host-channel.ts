import { connectivityState } from "@grpc/grpc-js";
import {
  type CallObserver,
  type ChannelCall,
  type ChannelInterface,
  type ChannelRef,
  OutgoingCall,
} from "@operator-plugin-framework/wire";
import type { HostRouter } from "./host-router.js";

/**
 * A grpc-js Channel to the operator's host services: every call becomes an
 * {@link OutgoingCall} that the {@link HostRouter} gives a stream on one of
 * the plugin's sessions. Any generated client, interceptors included, runs
 * on it unchanged. The operator's counterpart is registry's PoolChannel.
 */
export class HostChannel implements ChannelInterface {
  constructor(
    private readonly router: HostRouter,
    /** Watches each call (metrics, tracing); called as the call starts, in the caller's context. */
    private readonly observe?: (method: string) => CallObserver,
  ) {}

  createCall(...[method, deadline]: Parameters<ChannelInterface["createCall"]>): ChannelCall {
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    return new OutgoingCall(this.router, method, ms, this.observe?.(method));
  }

  close(): void {}

  getTarget(): string {
    return "operator";
  }

  getConnectivityState(): connectivityState {
    return connectivityState.READY;
  }

  watchConnectivityState(
    _current: connectivityState,
    _deadline: Date | number,
    callback: (error?: Error) => void,
  ): void {
    // Sessions are not one connection we could wait on; report no change,
    // the way a channel whose deadline passed does.
    process.nextTick(() =>
      callback(new Error("connectivity state watching is not supported for host-service channels")),
    );
  }

  getChannelzRef(): ChannelRef {
    return { kind: "channel", id: 0, name: this.getTarget() } as ChannelRef;
  }
}
