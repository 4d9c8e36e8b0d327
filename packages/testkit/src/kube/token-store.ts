import { randomUUID } from "node:crypto";
import type { FakeTokenIdentity, FakeTokenStore } from "./types.js";

/** A token as stored: its identity with defaults applied. */
export interface StoredToken {
  user: string;
  groups: string[];
  uid: string;
  extra: Record<string, string[]>;
  audiences: string[] | undefined;
  expiresAt: number | undefined;
}

/** Outcome of checking a token for a set of target audiences. */
export type TokenCheck = { ok: true; token: StoredToken; audiences: string[] } | { ok: false; error: string };

/** The fake API's tokens, with the audience and expiry rules of a real TokenReview. */
export interface TokenRegistry extends FakeTokenStore {
  /**
   * Checks a token against the target audiences: the token's audiences (or
   * the API's own, for a token configured without) must intersect them.
   */
  check(token: string, targetAudiences: readonly string[]): TokenCheck;
}

export function createTokenRegistry(options: {
  apiAudiences: readonly string[];
  now: () => number;
}): TokenRegistry {
  const tokens = new Map<string, StoredToken>();
  return {
    set(token, identity: FakeTokenIdentity) {
      if (token.length === 0) throw new Error("tokens.set: the token is empty");
      tokens.set(token, {
        user: identity.user,
        groups: identity.groups ?? ["system:authenticated"],
        uid: identity.uid ?? randomUUID(),
        extra: identity.extra ?? {},
        audiences: identity.audiences,
        expiresAt: identity.expiresAt?.getTime(),
      });
    },
    revoke(token) {
      tokens.delete(token);
    },
    check(token, targetAudiences) {
      // Error texts follow the API server's authenticator messages; the token itself never appears.
      const stored = tokens.get(token);
      if (stored === undefined) return { ok: false, error: "[invalid bearer token, token lookup failed]" };
      if (stored.expiresAt !== undefined && options.now() >= stored.expiresAt) {
        return { ok: false, error: "[invalid bearer token, token has expired]" };
      }
      const tokenAudiences = stored.audiences ?? options.apiAudiences;
      const matched = targetAudiences.filter((audience) => tokenAudiences.includes(audience));
      if (matched.length === 0) {
        return {
          ok: false,
          error: `[invalid bearer token, token audiences ${JSON.stringify(tokenAudiences)} is invalid for the target audiences ${JSON.stringify(targetAudiences)}]`,
        };
      }
      return { ok: true, token: stored, audiences: matched };
    },
  };
}
