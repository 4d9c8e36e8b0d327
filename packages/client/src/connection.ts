import { EventEmitter } from "node:events";
import { type MethodDefinition, status } from "@grpc/grpc-js";
import {
  type CallOptions,
  type Logger,
  type MethodShape,
  PluginFrameworkError,
  type ServiceFacade,
} from "@operator-plugin-framework/wire";
import type { Backoff } from "./backoff.js";
import { type ClientConstructor, type HostClientOptions, HostServices } from "./host-client.js";
import type { HostRoute } from "./host-router.js";
import type { HostCallObserve } from "./observability/prom-plugin-observer.js";
import type { ConnectionState, PluginConnection, RegisteredOptions } from "./plugin-connection.js";
import type { ParsedTarget } from "./target.js";
import { TargetLink, type TargetLinkOptions } from "./target-link.js";
import { type Resolve, systemResolve, TargetResolver } from "./target-resolver.js";

/** What a {@link Connection} is built from; `connectPlugin` derives it from the user's options. */
export interface ConnectionConfig {
  name: string;
  targets: readonly ParsedTarget[];
  /** Everything a link to `grpcTarget` needs, but its state callback. */
  linkOptions: (
    target: ParsedTarget,
    grpcTarget: string,
  ) => Omit<TargetLinkOptions, "onState" | "onHostCapacity">;
  /** Bounds of the plugin's host-service calls, and what observes them (metrics, tracing). */
  hostCalls: { maxSendMessageSize: number; maxQueued: number; observe?: HostCallObserve };
  /** Resolves a `dns+` target's host to addresses. Default: the system resolver. */
  resolve: Resolve | undefined;
  resolveIntervalMs: number;
  /** Retry pace of a failed `dns+` resolution: the links' reconnection backoff. */
  backoff: Backoff;
  drainGraceMs: number;
  signal: AbortSignal | undefined;
  logger: Logger;
}

/** One operator address and where it came from (`host:port` of a `dns+` target, or none). */
interface Link {
  readonly link: TargetLink;
  readonly resolvedFrom: string | undefined;
}

/** Links are kept up and added as `dns+` targets resolve. */
interface StateOpen {
  readonly kind: "open";
  readonly links: Map<string, Link>;
  /** Links to addresses a `dns+` target no longer resolves to, finishing their calls. */
  readonly retiring: Set<Promise<void>>;
  /** One per `dns+` target, each resolving on its own schedule. */
  readonly resolvers: TargetResolver[];
}

/** `close()` was called: links drain their calls; nothing new starts. */
interface StateClosing {
  readonly kind: "closing";
  readonly done: Promise<void>;
}

/** Every link is closed, and every timer and listener released. */
interface StateClosed {
  readonly kind: "closed";
  readonly done: Promise<void>;
}

const closedError = () =>
  new PluginFrameworkError(
    status.CANCELLED,
    "plugin connection closed; call connectPlugin() again to reconnect",
  );

/**
 * A plugin's connection to its operator(s): one {@link TargetLink} per
 * operator address, kept up until closed. Its lifecycle is one explicit
 * state, open → closing → closed; the per-address states (connecting,
 * registered, reconnecting, rejected) live in the links and are reported as
 * events.
 */
export class Connection implements PluginConnection {
  private s: StateOpen | StateClosing | StateClosed;
  private latest: ConnectionState;
  private readonly latestByTarget = new Map<string, ConnectionState>();
  /** Why each operator address last failed, until it registers: what registered({ timeoutMs }) reports. */
  private readonly lastFailure = new Map<string, string>();
  private readonly events = new EventEmitter();
  private readonly onAbort = () => void this.close();
  private readonly hostServices: HostServices;

  constructor(private readonly config: ConnectionConfig) {
    this.latest = { state: "connecting", attempt: 1, target: config.targets[0]!.grpcTarget };
    this.hostServices = new HostServices(
      {
        pluginName: config.name,
        routes: () => this.hostRoutes(),
        maxSendMessageSize: config.hostCalls.maxSendMessageSize,
        maxQueued: config.hostCalls.maxQueued,
      },
      config.hostCalls.observe,
    );
    if (config.signal?.aborted) {
      // Aborted before it started: nothing to open, nothing to release.
      this.latest = { state: "closed", target: "" };
      this.s = { kind: "closed", done: Promise.resolve() };
      this.hostServices.router.close(closedError().details);
      return;
    }
    this.s = { kind: "open", links: new Map(), retiring: new Set(), resolvers: [] };
    config.signal?.addEventListener("abort", this.onAbort, { once: true });
    for (const target of config.targets) {
      if (target.resolveAll) this.s.resolvers.push(this.resolver(target));
      else this.addLink(target, target.grpcTarget);
    }
  }

  get state(): ConnectionState {
    return this.latest;
  }

  get states(): ReadonlyMap<string, ConnectionState> {
    return this.latestByTarget;
  }

  get isRegistered(): boolean {
    if (this.s.kind !== "open") return false;
    for (const { link } of this.s.links.values()) if (link.registered) return true;
    return false;
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.events.on("state", listener);
    return () => this.events.off("state", listener);
  }

  async *watch(): AsyncIterable<ConnectionState> {
    const queue: ConnectionState[] = [];
    let wake: (() => void) | undefined;
    const off = this.onState((state) => {
      queue.push(state);
      wake?.();
    });
    try {
      while (this.s.kind !== "closed" || queue.length > 0) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      off();
    }
  }

  registered(options: RegisteredOptions = {}): Promise<void> {
    if (this.isRegistered) return Promise.resolve();
    if (this.s.kind !== "open") return Promise.reject(closedError());
    const { timeoutMs, signal } = options;
    if (signal?.aborted)
      return Promise.reject(new PluginFrameworkError(status.CANCELLED, "stopped waiting for registration"));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (error?: PluginFrameworkError) => {
        this.events.off("state", onState);
        this.events.off("closing", onClosing);
        signal?.removeEventListener("abort", onAbort);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const onState = (state: ConnectionState) => state.state === "registered" && settle();
      const onClosing = () => settle(closedError());
      const onAbort = () =>
        settle(new PluginFrameworkError(status.CANCELLED, "stopped waiting for registration"));
      this.events.on("state", onState);
      this.events.on("closing", onClosing);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => settle(this.notRegisteredError(timeoutMs)), timeoutMs);
      }
    });
  }

  /** DEADLINE_EXCEEDED that says, per operator address, why the plugin is not registered yet. */
  private notRegisteredError(timeoutMs: number): PluginFrameworkError {
    const states = [...this.latestByTarget.values()].map((state) => {
      const failure = this.lastFailure.get(state.target);
      return `${state.target} (${state.state}${failure ? `; last failure: ${failure}` : ""})`;
    });
    return new PluginFrameworkError(
      status.DEADLINE_EXCEEDED,
      `plugin "${this.config.name}" was not registered within ${timeoutMs} ms; ${states.join("; ") || "no operator address yet"}`,
    );
  }

  host<C>(ctor: ClientConstructor<C>, options?: HostClientOptions): C {
    return this.hostServices.host(ctor, options);
  }

  callHost<Req, Res>(method: MethodDefinition<Req, Res>, request: Req, options?: CallOptions): Promise<Res> {
    return this.hostServices.callHost(method, request, options);
  }

  hostService<S extends Record<string, MethodShape>>(
    definition: S,
    options?: HostClientOptions,
  ): ServiceFacade<S> {
    return this.hostServices.hostService(definition, options);
  }

  /** The registered session of every operator address, in the order of the targets. */
  private *hostRoutes(): Iterable<HostRoute> {
    if (this.s.kind !== "open") return;
    for (const { link } of this.s.links.values()) {
      const route = link.hostRoute;
      if (route) yield route;
    }
  }

  close(): Promise<void> {
    if (this.s.kind !== "open") return this.s.done;
    const { links, retiring, resolvers } = this.s;
    for (const resolver of resolvers) {
      resolver.close();
      // A name that never resolved has no link to report "closed" for it: it just goes.
      this.latestByTarget.delete(resolver.source);
      this.lastFailure.delete(resolver.source);
    }
    // Open host calls finish with their sessions' drain; waiting and new ones fail now.
    this.hostServices.router.close(closedError().details);
    this.config.signal?.removeEventListener("abort", this.onAbort);
    const done = (async () => {
      await Promise.all([
        ...[...links.values()].map(({ link }) => link.close(this.config.drainGraceMs)),
        ...retiring,
      ]);
      this.s = { kind: "closed", done: Promise.resolve() };
      this.setLatest({ state: "closed", target: "" });
      this.events.removeAllListeners();
    })();
    this.s = { kind: "closing", done };
    // Anyone waiting in registered() learns now, not after the drain.
    this.events.emit("closing");
    return done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private setLatest(state: ConnectionState): void {
    this.latest = state;
    this.events.emit("state", state);
  }

  private addLink(target: ParsedTarget, grpcTarget: string, resolvedFrom?: string): void {
    if (this.s.kind !== "open" || this.s.links.has(grpcTarget)) return;
    const { logger, name } = this.config;
    const link = new TargetLink({
      ...this.config.linkOptions(target, grpcTarget),
      onHostCapacity: () => this.hostServices.router.admit(),
      onState: (state) => {
        const next = { ...state, target: grpcTarget };
        if (state.state === "closed") this.latestByTarget.delete(grpcTarget);
        else this.latestByTarget.set(grpcTarget, next);
        if (state.state === "reconnecting" || state.state === "rejected") {
          this.lastFailure.set(grpcTarget, `${status[state.code] ?? state.code}: ${state.details}`);
        } else if (state.state === "registered" || state.state === "closed") {
          this.lastFailure.delete(grpcTarget);
        }
        logConnectionState(logger, name, next);
        this.setLatest(next);
      },
    });
    this.s.links.set(grpcTarget, { link, resolvedFrom });
  }

  /**
   * Keeps a `dns+` target resolved: links for new addresses, retirement for
   * gone ones. A failed resolution is a state of the target itself
   * ("host:port", reconnecting with the resolver's error), retried with the
   * backoff; once the name resolves, the addresses' own links report.
   */
  private resolver(target: ParsedTarget): TargetResolver {
    const resolver: TargetResolver = new TargetResolver({
      target,
      resolve: this.config.resolve ?? systemResolve,
      backoff: this.config.backoff,
      intervalMs: this.config.resolveIntervalMs,
      onAddresses: (wanted) => {
        if (this.s.kind !== "open") return;
        const { source } = resolver;
        this.latestByTarget.delete(source);
        this.lastFailure.delete(source);
        for (const address of wanted) this.addLink(target, address, source);
        // An operator replica that left: let its open calls finish, then drop it.
        for (const [address, { link, resolvedFrom }] of this.s.links) {
          if (resolvedFrom !== source || wanted.has(address)) continue;
          this.s.links.delete(address);
          const { retiring } = this.s;
          const closing = link.close(this.config.drainGraceMs).finally(() => retiring.delete(closing));
          retiring.add(closing);
        }
      },
      onFailure: ({ delayMs, details }) => {
        if (this.s.kind !== "open") return;
        const state: ConnectionState = {
          state: "reconnecting",
          code: status.UNAVAILABLE,
          details,
          delayMs,
          target: resolver.source,
        };
        this.latestByTarget.set(state.target, state);
        this.lastFailure.set(state.target, `UNAVAILABLE: ${details}`);
        logConnectionState(this.config.logger, this.config.name, state);
        this.setLatest(state);
      },
    });
    return resolver;
  }
}

/**
 * Every failed attempt is a warning with the reason (a plugin that cannot
 * reach its operator must say so by default); registering is info, and the
 * rest debug. The message stays the same for each state, so log queries and
 * scripts can match it; the reason is in the fields (`details`, and `code`
 * with its name in `codeName`).
 */
function logConnectionState(logger: Logger, plugin: string, state: ConnectionState): void {
  const message = `plugin connection ${state.state}`;
  switch (state.state) {
    case "reconnecting":
    case "rejected":
      logger.warn({ plugin, ...state, codeName: status[state.code] ?? String(state.code) }, message);
      return;
    case "registered":
      logger.info({ plugin, ...state }, message);
      return;
    default:
      logger.debug({ plugin, ...state }, message);
  }
}
