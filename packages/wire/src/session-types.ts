import type { Settings } from "@operator-plugin-framework/proto";

/** Limits one side applies to the calls of one session, after defaults. */
export interface SessionLimits {
  /** Largest message the peer may send us. */
  maxReceiveMessageSize: number;
  /** Largest message we send to the peer. */
  maxSendMessageSize: number;
  /** Calls open at once on the session. */
  maxConcurrentStreams: number;
}

/** What each side accepts on its receiving side, after defaults: ours and the peer's. */
export interface NegotiatedSettings {
  local: Required<Settings>;
  peer: Required<Settings>;
}
