import { ApiError } from "./api-status.js";

/** One change, as a watch streams it. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: object;
}

/** A change as stored: which type (`plural.group`) and namespace it belongs to, and its revision. */
export interface RecordedEvent extends WatchEvent {
  revision: number;
  key: string;
  namespace: string;
}

export type WatchListener = (event: WatchEvent) => void;

export interface WatchHistory {
  /** Allocates the next revision (resourceVersion). */
  next(): number;
  current(): number;
  /** Records a change and hands it to the live watchers it matches. */
  append(event: RecordedEvent): void;
  /**
   * Replays the changes after `revision` that match, then streams new ones.
   * Throws 410 Expired when the history no longer reaches back to `revision`.
   */
  subscribe(
    revision: number,
    matches: (event: RecordedEvent) => boolean,
    listener: WatchListener,
  ): () => void;
  /** Drops every recorded change, as an etcd compaction does. */
  compact(): void;
}

/**
 * The revision counter and the last `size` changes, what the API server's
 * watch cache keeps: a watch may resume from any revision still covered.
 */
export function createWatchHistory(size: number): WatchHistory {
  let revision = 1;
  // A watch may start from any revision >= oldest: every change after it is still recorded.
  let oldest = revision;
  let events: RecordedEvent[] = [];
  const watchers = new Set<{ matches: (event: RecordedEvent) => boolean; listener: WatchListener }>();

  return {
    next: () => ++revision,
    current: () => revision,
    append(event) {
      events.push(event);
      if (events.length > size) oldest = events.shift()!.revision;
      for (const watcher of [...watchers]) {
        if (watcher.matches(event)) watcher.listener({ type: event.type, object: event.object });
      }
    },
    subscribe(from, matches, listener) {
      if (!Number.isSafeInteger(from) || from < 0) {
        throw new ApiError(400, `invalid resourceVersion: ${String(from)}`);
      }
      if (from < oldest) {
        throw new ApiError(410, `too old resource version: ${from} (${oldest})`, "Expired");
      }
      for (const event of events) {
        if (event.revision > from && matches(event)) listener({ type: event.type, object: event.object });
      }
      const watcher = { matches, listener };
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    compact() {
      events = [];
      oldest = revision;
    },
  };
}
