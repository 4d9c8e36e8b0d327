import { connectivityState, status } from "@grpc/grpc-js";
import { type ChannelCall, type ChannelInterface, VirtualChannel } from "@operator-plugin-framework/wire";
import type { SessionPicker } from "./balancer.js";
import { DeferredStatusCall } from "./deferred-status-call.js";
import { FailedCall } from "./failed-call.js";
import type { PluginSession } from "./session.js";

/**
 * A grpc-js Channel for a plugin name rather than one session: every call
 * goes to one of the plugin's live sessions, picked when the call starts. A
 * client built on it keeps working while replicas come and go.
 */
export class PoolChannel extends VirtualChannel {
  protected readonly readinessHint: string;

  constructor(
    private readonly name: string,
    private readonly sessions: () => readonly PluginSession[],
    private readonly pick: SessionPicker,
    private readonly affinityKey: string | undefined,
  ) {
    super();
    this.readinessHint = `wait with registry.waitFor(${JSON.stringify(name)}) instead`;
  }

  createCall(
    ...[method, deadline, host, parentCall, flags]: Parameters<ChannelInterface["createCall"]>
  ): ChannelCall {
    const live = this.sessions().filter((session) => session.accepting);
    if (live.length === 0) {
      return new FailedCall(status.UNAVAILABLE, `plugin "${this.name}" has no live session`);
    }
    const fresh = live.filter((session) => !session.retiring);
    const candidates = fresh.length > 0 ? fresh : live;
    const session = candidates.length === 1 ? candidates[0]! : this.pick(candidates, this.affinityKey);
    return new DeferredStatusCall(session.channel.createCall(method, deadline, host, parentCall, flags));
  }

  getTarget(): string {
    return `plugin:${this.name}`;
  }

  getConnectivityState(): connectivityState {
    return this.sessions().some((session) => session.accepting)
      ? connectivityState.READY
      : connectivityState.TRANSIENT_FAILURE;
  }
}
