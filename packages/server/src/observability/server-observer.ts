import type { AnnouncedService } from "@operator-plugin-framework/registry";
import {
  composeSessionObservers,
  noopSessionObserver,
  type SessionObserver,
} from "@operator-plugin-framework/wire";

/** What an observer learns about a session when it is admitted. */
export interface ObservedSession {
  readonly id: string;
  readonly name: string;
  /** The services the plugin announced; the only method names worth a label of their own. */
  readonly services: readonly AnnouncedService[];
}

/** Server-wide events: sessions admitted, streams refused. */
export interface ServerObserver {
  /** A plugin registered; the returned observer watches that session until it closes. */
  sessionOpened(session: ObservedSession): SessionObserver;
  /**
   * A stream ended before its plugin was registered, with this gRPC status
   * code; `reason` names the cap that refused it, when one did.
   */
  refused(code: number, reason?: string): void;
}

/** The server observer used when metrics are off. */
export const noopServerObserver: ServerObserver = {
  sessionOpened: () => noopSessionObserver,
  refused: () => {},
};

/** One server observer that feeds two (metrics and tracing). */
export function composeServerObservers(first: ServerObserver, second: ServerObserver): ServerObserver {
  if (first === noopServerObserver) return second;
  return {
    sessionOpened: (session) =>
      composeSessionObservers(first.sessionOpened(session), second.sessionOpened(session)),
    refused(code) {
      first.refused(code);
      second.refused(code);
    },
  };
}
