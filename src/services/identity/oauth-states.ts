import type { Knex } from "knex";
import type { Db } from "../../db/knex";
import { hmac, randomToken, safeEqual, sha256 } from "../../crypto/secrets";
import { consumeOAuthState, findLiveOAuthState, insertOAuthState, isLiveOAuthState, OAuthState, StatePurpose } from "../../repositories/oauth-states";

export const STATE_TTL_MS = 10 * 60 * 1000;

export type IssuedState = Pick<OAuthState, "returnTo" | "teamId" | "githubUserId">;

/**
 * OAuth `state` values: random, signed with SESSION_SECRET over their purpose (a forged or
 * cross-purpose state is refused before the database is asked), stored only as a hash, with an
 * expiry, and usable once.
 */
export function createOAuthStates({ db, secret, now }: { db: Knex; secret: string; now: () => Date }) {
  const sign = (purpose: StatePurpose, nonce: string) => hmac(secret, `state:${purpose}:${nonce}`);
  // A forged or cross-purpose state is refused before the database is asked.
  const verified = (purpose: StatePurpose, state: string) => {
    const [nonce, signature, extra] = state.split(".");
    return Boolean(nonce && signature && extra === undefined && safeEqual(signature, sign(purpose, nonce)));
  };

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
      return verified(purpose, state) ? consumeOAuthState(db, sha256(state), purpose, now()) : undefined;
    },

    /**
     * consume, for a state issued to `githubUserId` only. "another_user", with nothing spent, when
     * it is live but was issued to someone else: a link that leaked cannot be used up by whoever
     * holds it, only by the person it was made for.
     */
    async consumeAs(purpose: StatePurpose, state: string, githubUserId: number, on: Db = db): Promise<IssuedState | "another_user" | undefined> {
      if (!verified(purpose, state)) return undefined;
      const hash = sha256(state);
      const issued = await consumeOAuthState(on, hash, purpose, now(), githubUserId);
      if (issued) return issued;
      return (await isLiveOAuthState(on, hash, purpose, now())) ? "another_user" : undefined;
    },

    /**
     * What consumeAs would answer, with nothing spent: for checks (with GitHub, say) that may
     * fail through no fault of the state, which is then spent by consumeAs in the transaction
     * of what it was for.
     */
    async peekAs(purpose: StatePurpose, state: string, githubUserId: number): Promise<IssuedState | "another_user" | undefined> {
      if (!verified(purpose, state)) return undefined;
      const issued = await findLiveOAuthState(db, sha256(state), purpose, now());
      if (!issued) return undefined;
      return issued.githubUserId === githubUserId ? issued : "another_user";
    },
  };
}

export type OAuthStates = ReturnType<typeof createOAuthStates>;
