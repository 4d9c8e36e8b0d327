import type { HostServiceCaller } from "./host-client.js";
import type { LinkState } from "./target-link.js";

/** A state change of the connection to one operator address. */
export type ConnectionState = LinkState & { target: string };

/** Options of {@link PluginConnection.registered}. */
export interface RegisteredOptions {
  /**
   * Give up after this long with DEADLINE_EXCEEDED, saying for each operator
   * address why the plugin is not registered. Default: wait until closed.
   */
  timeoutMs?: number;
  /** Give up when aborted, with CANCELLED. Default: none. */
  signal?: AbortSignal;
}

/** A plugin's connection to its operator(s), as `connectPlugin` returns it. */
export interface PluginConnection extends AsyncDisposable, HostServiceCaller {
  /** The latest state change, of whichever operator address changed last. */
  readonly state: ConnectionState;
  /** The latest state of every operator address. */
  readonly states: ReadonlyMap<string, ConnectionState>;
  /** True when at least one session is registered. */
  readonly isRegistered: boolean;
  /** Subscribes to state changes; returns the unsubscribe function. */
  onState(listener: (state: ConnectionState) => void): () => void;
  /**
   * State changes as an async iterable: every change from now on, ending
   * after the final `closed` state. Breaking out of the loop unsubscribes.
   */
  watch(): AsyncIterable<ConnectionState>;
  /** Resolves once (or now, if) a session is registered. Rejects with CANCELLED once `close()` is called. */
  registered(options?: RegisteredOptions): Promise<void>;
  /** Stops reconnecting, lets in-flight calls finish within the grace period, and disconnects. */
  close(): Promise<void>;
}
