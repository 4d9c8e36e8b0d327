import { EventEmitter, on } from "node:events";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { leastInFlight, type SessionPicker } from "./balancer.js";
import { createPluginHandle, type PluginHandle } from "./plugin-handle.js";
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

/** Options of `PluginRegistry.waitFor()`. */
export interface WaitForOptions {
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
   * The plugin registered under `name`. Throws NOT_FOUND, listing the
   * registered names, when it has no session now.
   */
  get(name: string): PluginHandle;
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
   * Resolves when `name` has a session that takes calls (at once if it has
   * one; a draining session does not count). Rejects with DEADLINE_EXCEEDED
   * after `timeoutMs`, or CANCELLED when `signal` aborts.
   */
  waitFor(name: string, options?: WaitForOptions): Promise<PluginHandle>;
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

class LiveRegistry implements PluginRegistry {
  private readonly byName = new Map<string, PluginSession[]>();
  private readonly handles = new Map<string, PluginHandle>();
  private readonly events = new EventEmitter();

  constructor(private readonly picker: SessionPicker) {
    // Every waitFor() and watch() listens while it waits; there is no leak to warn about.
    this.events.setMaxListeners(0);
  }

  get(name: string): PluginHandle {
    if (!this.has(name)) {
      throw new PluginFrameworkError(
        status.NOT_FOUND,
        `plugin "${name}" is not registered; registered: ${this.namesText()}`,
      );
    }
    return this.handle(name);
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
    if (this.byName.get(name)?.some((session) => session.accepting))
      return Promise.resolve(this.handle(name));
    if (signal?.aborted) return Promise.reject(this.stoppedWaiting(name, signal));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        off();
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const off = this.on("registered", (event) => {
        if (event.session.name !== name || !event.session.accepting) return;
        done();
        resolve(this.handle(name));
      });
      const onAbort = () => {
        done();
        reject(this.stoppedWaiting(name, signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(
            new PluginFrameworkError(
              status.DEADLINE_EXCEEDED,
              `plugin "${name}" did not register within ${timeoutMs} ms; registered: ${this.namesText()}`,
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

  private handle(name: string): PluginHandle {
    let handle = this.handles.get(name);
    if (!handle) {
      handle = createPluginHandle(name, () => this.byName.get(name) ?? [], this.picker);
      this.handles.set(name, handle);
    }
    return handle;
  }

  private emit(event: RegistryEvent): void {
    this.events.emit(event.type, event);
    this.events.emit("event", event);
  }
}
