import { connectivityState } from "@grpc/grpc-js";
import {
  type CallObserver,
  type ChannelCall,
  type ChannelInterface,
  OutgoingCall,
  VirtualChannel,
} from "@operator-plugin-framework/wire";
import type { HostRouter } from "./host-router.js";

/**
 * A grpc-js Channel to the operator's host services: every call becomes an
 * {@link OutgoingCall} that the {@link HostRouter} gives a stream on one of
 * the plugin's sessions. Any generated client, interceptors included, runs
 * on it unchanged. The operator's counterpart is registry's PoolChannel.
 */
export class HostChannel extends VirtualChannel {
  protected readonly readinessHint = "wait for connection.registered() instead";

  constructor(
    private readonly router: HostRouter,
    /** Watches each call (metrics, tracing); called as the call starts, in the caller's context. */
    private readonly observe?: (method: string) => CallObserver,
  ) {
    super();
  }

  createCall(...[method, deadline]: Parameters<ChannelInterface["createCall"]>): ChannelCall {
    const ms = deadline instanceof Date ? deadline.getTime() : deadline;
    return new OutgoingCall(this.router, method, ms, this.observe?.(method));
  }

  getTarget(): string {
    return "operator";
  }

  /** Always READY: a call with no registered session waits in the router's queue, it does not fail. */
  getConnectivityState(): connectivityState {
    return connectivityState.READY;
  }
}
