import { connectivityState, type Deadline } from "@grpc/grpc-js";
import type { AnnouncedService, PluginSession, SessionIdentity } from "@operator-plugin-framework/registry";
import type { ChannelCall, ChannelInterface, ChannelRef } from "@operator-plugin-framework/wire";

/** What every session knows about its plugin, fixed at registration. */
export interface SessionInit {
  id: string;
  name: string;
  version: string;
  protocolRevision: number;
  identity: SessionIdentity | undefined;
  peer: string;
  services: AnnouncedService[];
}

/**
 * The part of a session that is the same for seed and revision-1 plugins: its
 * registry record, and being a grpc-js Channel whose calls go through it.
 */
export abstract class SessionBase implements PluginSession, ChannelInterface {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly protocolRevision: number;
  readonly identity: SessionIdentity | undefined;
  readonly connectedAt = new Date();
  readonly peer: string;
  readonly services: readonly AnnouncedService[];
  /** Why the session takes no new calls; undefined while it does. */
  protected closedReason: string | undefined;
  protected draining = false;
  retiring = false;
  private idleWaiters: (() => void)[] = [];

  constructor(init: SessionInit) {
    this.id = init.id;
    this.name = init.name;
    this.version = init.version;
    this.protocolRevision = init.protocolRevision;
    this.identity = init.identity;
    this.peer = init.peer;
    this.services = init.services;
  }

  abstract readonly inFlight: number;
  abstract createCall(method: string, deadline: Deadline): ChannelCall;
  /** Ends the session: every open call fails with UNAVAILABLE and `reason`. */
  abstract terminate(reason: string): void;

  /** A client closing its channel must not end the plugin's session: no-op. */
  close(): void {}

  /** Resolves once no call is open on this session (at once if none is). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Subclasses call this whenever a call ends or the session terminates. */
  protected checkIdle(): void {
    if (this.inFlight > 0 || this.idleWaiters.length === 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  get channel(): ChannelInterface {
    return this;
  }

  get accepting(): boolean {
    return this.closedReason === undefined && !this.draining;
  }

  /** Label used as the peer of calls through this session. */
  get peerLabel(): string {
    return `plugin:${this.name}/${this.id}`;
  }

  /** Why a new call must fail now, or undefined when it may start. */
  refusal(): string | undefined {
    if (this.closedReason !== undefined) return `plugin "${this.name}" session closed: ${this.closedReason}`;
    if (this.draining) return `plugin "${this.name}" session is draining`;
    return undefined;
  }

  getTarget(): string {
    return this.peerLabel;
  }
  getConnectivityState(): connectivityState {
    return this.accepting ? connectivityState.READY : connectivityState.SHUTDOWN;
  }
  watchConnectivityState(_s: connectivityState, _d: Date | number, callback: (error?: Error) => void): void {
    process.nextTick(() =>
      callback(new Error("connectivity state watching is not supported for plugin sessions")),
    );
  }
  getChannelzRef(): ChannelRef {
    return { kind: "channel", id: 0, name: this.peerLabel } as ChannelRef;
  }
}

/** Converts a grpc-js deadline to epoch milliseconds (Infinity for none). */
export function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
