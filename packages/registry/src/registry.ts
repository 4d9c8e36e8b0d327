import { EventEmitter, on } from "node:events";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { leastInFlight, type SessionPicker } from "./balancer.js";
import { createPluginHandle, type PluginHandle } from "./plugin-handle.js";
import { registeredText } from "./registered-text.js";
import { compileSelector, type PluginSelector, type SessionFilter } from "./selector.js";
import { type ServiceRef, serviceNameOf } from "./service-ref.js";
import type { PluginSession } from "./session.js";

/** What `watch()` yields and the events emit. */
export interface RegistryEvent {
  type: "registered" | "unregistered";
  session: PluginSession;
  /** Sessions the plugin has after this event. */
  remaining: number;
}

export interface PluginRegistryOptions {
  /** How a call picks among replicas. Default: `leastInFlight()`. */
  picker?: SessionPicker;
}

/** Options of `PluginRegistry.waitFor()`: a selector, and how long to wait. */
export interface WaitForOptions extends PluginSelector {
  /** Aborting stops the wait; it then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Time allowed, in milliseconds. Default: no limit. */
  timeoutMs?: number;
}

/**
 * The live set of plugin sessions, by name. The server adds a session when a
 * plugin registers and removes exactly that session when its stream ends.
 * Create one with `createPluginRegistry()`, or use `server.registry`.
 */
export interface PluginRegistry {
  /**
   * The plugin registered under `name`. Throws NOT_FOUND, listing what is
   * registered, when it has no session now (none that matches `selector`).
   *
   * With a selector the handle covers only the sessions that match it,
   * checked again when each call starts, so a replica that registers later
   * at a matching version is used too. When replicas of one name run
   * different versions that all satisfy the range, calls are spread over all
   * of them by the registry's picker, as over any replicas: `get` does not
   * prefer the highest version. Pin one version with an exact range (`"1.4.2"`).
   *
   * @example
   * const aws = registry.get("aws", { version: "^1.2.0", labels: { region: "eu" } });
   */
  get(name: string, selector?: PluginSelector): PluginHandle;
  /** True when `name` has at least one session. */
  has(name: string): boolean;
  /** Names with at least one session, sorted. */
  names(): string[];
  /** Every registered plugin, sorted by name. */
  list(): PluginHandle[];
  /** Every session of every plugin. */
  sessions(): PluginSession[];
  /** Subscribes to registrations and removals; returns the unsubscribe function. */
  on(type: RegistryEvent["type"], listener: (event: RegistryEvent) => void): () => void;
  /**
   * Registry events as an async iterable, from now until `signal` aborts or
   * the loop is left. Events that arrive while the loop body runs are queued.
   */
  watch(options?: { signal?: AbortSignal }): AsyncIterable<RegistryEvent>;
  /**
   * Resolves when `name` has a session that takes calls and matches the
   * selector in `options` (at once if it has one; a draining session does not
   * count), with the handle `get(name, selector)` gives. Rejects with
   * DEADLINE_EXCEEDED after `timeoutMs`, listing what is registered, with
   * CANCELLED when `signal` aborts, and with INVALID_ARGUMENT for a version
   * that is not a semver range.
   */
  waitFor(name: string, options?: WaitForOptions): Promise<PluginHandle>;
  /**
   * The plugins with a session that announced `service` (a generated
   * definition or the full name, e.g. `"dns.v1.DnsProvider"`) and matches
   * `selector`, sorted by name: one handle per plugin, whose calls go only to
   * those sessions. Throws NOT_FOUND naming what was looked for and what is
   * registered when there is none, and INVALID_ARGUMENT for a version that
   * is not a semver range. Seed plugins announce no services, so they are
   * never found here.
   *
   * @example
   * const [provider] = registry.byService(DnsProviderServiceService, { version: "^2.0.0" });
   */
  byService(service: ServiceRef, selector?: PluginSelector): PluginHandle[];
}

/** Creates an empty registry. */
export function createPluginRegistry(options: PluginRegistryOptions = {}): PluginRegistry {
  return new LiveRegistry(options.picker ?? leastInFlight());
}

/**
 * Adds a session to a registry made by `createPluginRegistry()`; returns the
 * function that removes exactly this session (calling it twice is harmless).
 * For @operator-plugin-framework/server only, through the `./internal` entry.
 */
export function addSession(registry: PluginRegistry, session: PluginSession): () => void {
  if (!(registry instanceof LiveRegistry)) {
    throw new TypeError(
      "this registry was not made by createPluginRegistry() of this copy of @operator-plugin-framework/registry; " +
        "pass one made by it (check that only one copy is installed)",
    );
  }
  return registry.add(session);
}

/**
 * Calls `listener` for each registration under `name` until the returned
 * function is called. Unlike `on("registered")`, a registration costs one
 * map lookup however many plugins are being waited for: a fleet of
 * sessions each waiting for its own replacement (maximum age) must not
 * make every registration call all of their listeners. For
 * @operator-plugin-framework/server only, through the `./internal` entry.
 */
export function onRegisteredAs(
  registry: PluginRegistry,
  name: string,
  listener: (event: RegistryEvent) => void,
): () => void {
  if (!(registry instanceof LiveRegistry)) {
    // Another copy's registry: its public events work too, at O(listeners) per event.
    return registry.on("registered", (event) => {
      if (event.session.name === name) listener(event);
    });
  }
  return registry.onRegisteredAs(name, listener);
}

class LiveRegistry implements PluginRegistry {
  private readonly byName = new Map<string, PluginSession[]>();
  private readonly handles = new Map<string, PluginHandle>();
  private readonly events = new EventEmitter();
  /** Listeners for registrations of one name (waitFor, replacements): see onRegisteredAs. */
  private readonly nameListeners = new Map<string, Set<(event: RegistryEvent) => void>>();

  constructor(private readonly picker: SessionPicker) {
    // Every waitFor() and watch() listens while it waits; there is no leak to warn about.
    this.events.setMaxListeners(0);
  }

  get(name: string, selector?: PluginSelector): PluginHandle {
    const filter = compileSelector(selector);
    if (!filter.restricts) {
      if (!this.has(name)) {
        throw new PluginFrameworkError(
          status.NOT_FOUND,
          `plugin "${name}" is not registered; registered: ${this.namesText()}`,
        );
      }
      return this.handle(name);
    }
    const handle = this.selectedHandle(name, filter.matches);
    if (handle.sessions.length === 0) {
      throw new PluginFrameworkError(
        status.NOT_FOUND,
        `plugin "${name}" has no session${filter.text}; registered: ${this.registeredText(name, filter)}`,
      );
    }
    return handle;
  }

  byService(service: ServiceRef, selector?: PluginSelector): PluginHandle[] {
    const serviceName = serviceNameOf(service);
    const filter = compileSelector(selector);
    const announces = (session: PluginSession) =>
      session.services.some((announced) => announced.name === serviceName);
    const serves = (session: PluginSession) => announces(session) && filter.matches(session);
    const handles = this.names()
      .filter((name) => this.byName.get(name)!.some(serves))
      .map((name) => this.selectedHandle(name, serves));
    if (handles.length === 0) {
      const registered = registeredText(this.sessions(), { relevant: announces, filter, services: true });
      throw new PluginFrameworkError(
        status.NOT_FOUND,
        `no plugin serves ${serviceName}${filter.text}; registered: ${registered}`,
      );
    }
    return handles;
  }

  has(name: string): boolean {
    return (this.byName.get(name)?.length ?? 0) > 0;
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  list(): PluginHandle[] {
    return this.names().map((name) => this.handle(name));
  }

  sessions(): PluginSession[] {
    return [...this.byName.values()].flat();
  }

  add(session: PluginSession): () => void {
    const list = this.byName.get(session.name) ?? [];
    list.push(session);
    this.byName.set(session.name, list);
    this.emit({ type: "registered", session, remaining: list.length });
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const rest = (this.byName.get(session.name) ?? []).filter((s) => s !== session);
      if (rest.length) this.byName.set(session.name, rest);
      else this.byName.delete(session.name);
      this.emit({ type: "unregistered", session, remaining: rest.length });
    };
  }

  on(type: RegistryEvent["type"], listener: (event: RegistryEvent) => void): () => void {
    this.events.on(type, listener);
    return () => this.events.off(type, listener);
  }

  onRegisteredAs(name: string, listener: (event: RegistryEvent) => void): () => void {
    let listeners = this.nameListeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.nameListeners.set(name, listeners);
    }
    // A wrapper per subscription, so that one function subscribed twice is two subscriptions.
    const entry = (event: RegistryEvent) => listener(event);
    listeners.add(entry);
    return () => {
      const current = this.nameListeners.get(name);
      if (!current?.delete(entry)) return;
      if (current.size === 0) this.nameListeners.delete(name);
    };
  }

  async *watch(options: { signal?: AbortSignal } = {}): AsyncIterable<RegistryEvent> {
    try {
      for await (const [event] of on(this.events, "event", { signal: options.signal }))
        yield event as RegistryEvent;
    } catch (err) {
      if ((err as Error).name !== "AbortError") throw err;
    }
  }

  waitFor(name: string, options: WaitForOptions = {}): Promise<PluginHandle> {
    const { signal, timeoutMs } = options;
    let filter: SessionFilter;
    try {
      filter = compileSelector(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const found = () => (filter.restricts ? this.selectedHandle(name, filter.matches) : this.handle(name));
    const ready = (session: PluginSession) =>
      session.name === name && session.accepting && filter.matches(session);
    if (this.byName.get(name)?.some(ready)) return Promise.resolve(found());
    if (signal?.aborted) return Promise.reject(this.stoppedWaiting(name, signal));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        off();
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const off = this.onRegisteredAs(name, (event) => {
        if (!ready(event.session)) return;
        done();
        resolve(found());
      });
      const onAbort = () => {
        done();
        reject(this.stoppedWaiting(name, signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          const registered = filter.restricts ? this.registeredText(name, filter) : this.namesText();
          reject(
            new PluginFrameworkError(
              status.DEADLINE_EXCEEDED,
              `plugin "${name}"${filter.text} did not register within ${timeoutMs} ms; registered: ${registered}`,
            ),
          );
        }, timeoutMs);
      }
    });
  }

  private stoppedWaiting(name: string, signal: AbortSignal): PluginFrameworkError {
    return new PluginFrameworkError(status.CANCELLED, `stopped waiting for plugin "${name}"`, {
      cause: signal.reason,
    });
  }

  private namesText(): string {
    const names = this.names();
    return names.length ? names.join(", ") : "(none)";
  }

  /** Every session, the ones of `name` first, with versions and labels. */
  private registeredText(name: string, filter: SessionFilter): string {
    const relevant = (session: PluginSession) => session.name === name;
    return registeredText(this.sessions(), { relevant, filter, services: false });
  }

  /** A handle over the sessions of `name` that `matches` accepts when a call starts. */
  private selectedHandle(name: string, matches: (session: PluginSession) => boolean): PluginHandle {
    return createPluginHandle(name, () => (this.byName.get(name) ?? []).filter(matches), this.picker);
  }

  private handle(name: string): PluginHandle {
    let handle = this.handles.get(name);
    if (!handle) {
      handle = createPluginHandle(name, () => this.byName.get(name) ?? [], this.picker);
      this.handles.set(name, handle);
    }
    return handle;
  }

  private emit(event: RegistryEvent): void {
    if (event.type === "registered") {
      const listeners = this.nameListeners.get(event.session.name);
      // A copy: a listener may unsubscribe itself, or others, while they run.
      if (listeners) for (const listener of [...listeners]) if (listeners.has(listener)) listener(event);
    }
    this.events.emit(event.type, event);
    this.events.emit("event", event);
  }
}
