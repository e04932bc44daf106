import type { Knex } from "knex";
import { hmac, randomToken, safeEqual, sha256 } from "../crypto/secrets";
import { consumeOAuthState, insertOAuthState, OAuthState, StatePurpose } from "../repositories/oauth-states";

export const STATE_TTL_MS = 10 * 60 * 1000;

export type IssuedState = Pick<OAuthState, "returnTo" | "teamId" | "githubUserId">;

/**
 * OAuth `state` values: random, signed with SESSION_SECRET over their purpose (a forged or
 * cross-purpose state is refused before the database is asked), stored only as a hash, with an
 * expiry, and usable once.
 */
export function createOAuthStates({ db, secret, now }: { db: Knex; secret: string; now: () => Date }) {
  const sign = (purpose: StatePurpose, nonce: string) => hmac(secret, `state:${purpose}:${nonce}`);

  return {
    async issue(purpose: StatePurpose, bound: Partial<IssuedState> & { returnTo: string }): Promise<string> {
      const nonce = randomToken();
      const state = `${nonce}.${sign(purpose, nonce)}`;
      const createdAt = now();
      await insertOAuthState(db, {
        stateHash: sha256(state),
        purpose,
        returnTo: bound.returnTo,
        teamId: bound.teamId ?? null,
        githubUserId: bound.githubUserId ?? null,
        createdAt,
        expiresAt: new Date(createdAt.getTime() + STATE_TTL_MS),
      });
      return state;
    },

    /** The state's bindings, or undefined for a forged, unknown, expired, reused or cross-purpose state. */
    async consume(purpose: StatePurpose, state: string): Promise<IssuedState | undefined> {
      const [nonce, signature, extra] = state.split(".");
      if (!nonce || !signature || extra !== undefined || !safeEqual(signature, sign(purpose, nonce))) return undefined;
      return consumeOAuthState(db, sha256(state), purpose, now());
    },
  };
}

export type OAuthStates = ReturnType<typeof createOAuthStates>;
