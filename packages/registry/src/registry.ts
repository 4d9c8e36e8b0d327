import { EventEmitter, on } from "node:events";
import { status } from "@grpc/grpc-js";
import { PluginFrameworkError } from "@operator-plugin-framework/wire";
import { leastInFlight, type SessionPicker } from "./balancer.js";
import { PluginHandle } from "./plugin-handle.js";
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

/**
 * The live set of plugin sessions, by name. The server adds a session when a
 * plugin registers and removes exactly that session when its stream ends.
 */
export class PluginRegistry {
  private readonly byName = new Map<string, PluginSession[]>();
  private readonly handles = new Map<string, PluginHandle>();
  private readonly events = new EventEmitter();
  private readonly picker: SessionPicker;

  constructor(options: PluginRegistryOptions = {}) {
    this.picker = options.picker ?? leastInFlight();
    this.events.setMaxListeners(0);
  }

  /**
   * The plugin registered under `name`. Throws NOT_FOUND, listing the
   * registered names, when it has no session now.
   */
  get(name: string): PluginHandle {
    if (!this.has(name)) {
      const names = this.names();
      throw new PluginFrameworkError(
        status.NOT_FOUND,
        `plugin "${name}" is not registered; registered: ${names.length ? names.join(", ") : "(none)"}`,
      );
    }
    return this.handle(name);
  }

  /** True when `name` has at least one session. */
  has(name: string): boolean {
    return (this.byName.get(name)?.length ?? 0) > 0;
  }

  /** Names with at least one session, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Every registered plugin, sorted by name. */
  list(): PluginHandle[] {
    return this.names().map((name) => this.handle(name));
  }

  /** Every session of every plugin. */
  sessions(): PluginSession[] {
    return [...this.byName.values()].flat();
  }

  /**
   * Adds a session; returns the function that removes exactly this session
   * (calling it twice is harmless). Used by the server.
   */
  add(session: PluginSession): () => void {
    const list = this.byName.get(session.name) ?? [];
    list.push(session);
    this.byName.set(session.name, list);
    this.emit({ type: "registered", session, remaining: list.length });
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const current = this.byName.get(session.name) ?? [];
      const rest = current.filter((s) => s !== session);
      if (rest.length) this.byName.set(session.name, rest);
      else this.byName.delete(session.name);
      this.emit({ type: "unregistered", session, remaining: rest.length });
    };
  }

  /** Subscribes to registrations and removals; returns the unsubscribe function. */
  on(type: RegistryEvent["type"], listener: (event: RegistryEvent) => void): () => void {
    this.events.on(type, listener);
    return () => this.events.off(type, listener);
  }

  /** Registry events as an async iterable, until `signal` aborts. */
  async *watch(options: { signal?: AbortSignal } = {}): AsyncIterable<RegistryEvent> {
    try {
      for await (const [event] of on(this.events, "event", { signal: options.signal }))
        yield event as RegistryEvent;
    } catch (err) {
      if ((err as Error).name !== "AbortError") throw err;
    }
  }

  /**
   * Resolves when `name` has a session that takes calls (at once if it has one). Rejects with
   * DEADLINE_EXCEEDED after `timeoutMs`, or CANCELLED when `signal` aborts.
   */
  waitFor(name: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<PluginHandle> {
    // A draining session does not count: its plugin is on its way out.
    if (this.byName.get(name)?.some((session) => session.accepting))
      return Promise.resolve(this.handle(name));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        off();
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const off = this.on("registered", (event) => {
        if (event.session.name !== name) return;
        done();
        resolve(this.handle(name));
      });
      const onAbort = () => {
        done();
        reject(new PluginFrameworkError(status.CANCELLED, `stopped waiting for plugin "${name}"`));
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(
            new PluginFrameworkError(
              status.DEADLINE_EXCEEDED,
              `plugin "${name}" did not register within ${options.timeoutMs} ms; registered: ${this.names().join(", ") || "(none)"}`,
            ),
          );
        }, options.timeoutMs);
      }
    });
  }

  private handle(name: string): PluginHandle {
    let handle = this.handles.get(name);
    if (!handle) {
      handle = new PluginHandle(name, () => this.byName.get(name) ?? [], this.picker);
      this.handles.set(name, handle);
    }
    return handle;
  }

  private emit(event: RegistryEvent): void {
    this.events.emit(event.type, event);
    this.events.emit("event", event);
  }
}

/** Creates an empty registry. */
export function createPluginRegistry(options?: PluginRegistryOptions): PluginRegistry {
  return new PluginRegistry(options);
}
