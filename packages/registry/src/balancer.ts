import type { PluginSession } from "./session.js";

/**
 * Picks the session for a new call among a plugin's live sessions (never
 * empty). `key` is the caller's affinity key, when it gave one.
 */
export type SessionPicker = (sessions: readonly PluginSession[], key: string | undefined) => PluginSession;

/** The session with the fewest calls in flight; ties go round robin. The default. */
export function leastInFlight(): SessionPicker {
  let turn = 0;
  return (sessions, key) => {
    if (key !== undefined) return byKey(sessions, key);
    turn = (turn + 1) % 1_000_000;
    let best = sessions[turn % sessions.length]!;
    for (const session of sessions) if (session.inFlight < best.inFlight) best = session;
    return best;
  };
}

/** Each session in turn. */
export function roundRobin(): SessionPicker {
  let turn = 0;
  return (sessions, key) => {
    if (key !== undefined) return byKey(sessions, key);
    turn = (turn + 1) % 1_000_000;
    return sessions[turn % sessions.length]!;
  };
}

// Rendezvous hashing: a key keeps its session while that session lives, and
// only the keys of a session that leaves move.
function byKey(sessions: readonly PluginSession[], key: string): PluginSession {
  let best = sessions[0]!;
  let bestScore = -1;
  for (const session of sessions) {
    const score = hash(`${key}\u0000${session.id}`);
    if (score > bestScore) {
      best = session;
      bestScore = score;
    }
  }
  return best;
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
