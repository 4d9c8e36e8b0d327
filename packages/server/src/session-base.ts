import { connectivityState, type Deadline } from "@grpc/grpc-js";
import type { PluginStreamMessage } from "@operator-plugin-framework/proto";
import type { AnnouncedService, PluginSession, SessionIdentity } from "@operator-plugin-framework/registry";
import {
  type ChannelInterface,
  IdleTracker,
  noopSessionObserver,
  type SessionLimits,
  type SessionObserver,
  VirtualChannel,
} from "@operator-plugin-framework/wire";
import type { SessionTransport } from "./transport.js";

/** The wire's per-session limits, plus those only the operator side has. */
export interface ServerSessionLimits extends SessionLimits {
  /**
   * Calls that may wait for a stream slot once `maxConcurrentStreams` are
   * open; past it a new call fails with RESOURCE_EXHAUSTED.
   */
  maxQueuedCalls: number;
}

/** What every session knows about its plugin, fixed at registration. */
export interface SessionInit {
  id: string;
  name: string;
  version: string;
  protocolRevision: number;
  identity: SessionIdentity | undefined;
  peer: string;
  services: AnnouncedService[];
  /** Checked by `validateLabels` (register-labels.ts). Default none. */
  labels?: Readonly<Record<string, string>>;
}

/** How a session drains; see {@link SessionBase.drain}. */
export interface DrainOptions {
  /** Why, told to the plugin. */
  reason: string;
  /** Time the plugin is told its open calls have to finish. */
  graceMs: number;
  /**
   * `"refuse-new"` (the operator stops): new calls fail from now on.
   * `"until-replaced"` (maximum age): new calls are still taken, but the
   * registry prefers another session once the plugin registered again.
   */
  mode: "refuse-new" | "until-replaced";
}

/**
 * The part of a session that is the same for seed and revision-1 plugins: its
 * registry record, and being a grpc-js Channel whose calls go through it.
 */
export abstract class SessionBase extends VirtualChannel implements PluginSession {
  protected readonly readinessHint = "watch the registry's events for this session instead";
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly protocolRevision: number;
  readonly identity: SessionIdentity | undefined;
  readonly connectedAt = new Date();
  readonly peer: string;
  readonly services: readonly AnnouncedService[];
  readonly labels: Readonly<Record<string, string>>;
  /** Why the session takes no new calls; undefined while it does. */
  protected closedReason: string | undefined;
  protected draining = false;
  retiring = false;
  /** Watches this session's calls (metrics); set by the stream that admits it. */
  observer: SessionObserver = noopSessionObserver;
  private readonly idleTracker = new IdleTracker(() => this.inFlight);

  constructor(
    init: SessionInit,
    protected readonly transport: SessionTransport,
    readonly limits: ServerSessionLimits,
  ) {
    super();
    this.id = init.id;
    this.name = init.name;
    this.version = init.version;
    this.protocolRevision = init.protocolRevision;
    this.identity = init.identity;
    this.peer = init.peer;
    this.services = init.services;
    this.labels = Object.freeze({ ...init.labels });
  }

  abstract readonly inFlight: number;
  /** Ends the session: every open call fails with UNAVAILABLE and `reason`. */
  abstract terminate(reason: string): void;
  /** The plugin is registered: tell it so, if its protocol expects an answer, and start timers. */
  abstract accept(): void;
  /**
   * One message from the plugin after registration. Throws a
   * PluginFrameworkError (a protocol violation) to end the stream with it.
   */
  abstract onMessage(message: PluginStreamMessage): void;
  /** Tells the plugin about a drain, if its protocol can express one. */
  protected abstract announceDrain(options: DrainOptions): void;

  /**
   * Asks the plugin to finish here and register again; open calls go on. A
   * `"refuse-new"` drain after an `"until-replaced"` one tightens it.
   */
  drain(options: DrainOptions): void {
    if (this.draining || (options.mode === "until-replaced" && this.retiring)) return;
    if (options.mode === "refuse-new") this.draining = true;
    else this.retiring = true;
    this.observer.drained(options.mode === "refuse-new" ? "operator" : "max_age");
    this.announceDrain(options);
  }

  /** Resolves once no call is open on this session (at once if none is). */
  idle(): Promise<void> {
    return this.idleTracker.idle();
  }

  /** Subclasses call this whenever a call ends or the session terminates. */
  protected checkIdle(): void {
    this.idleTracker.check();
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
}

/** Converts a grpc-js deadline to epoch milliseconds (Infinity for none). */
export function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
