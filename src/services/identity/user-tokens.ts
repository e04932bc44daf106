import type { Knex } from "knex";
import type { Logger } from "pino";
import type { TokenCipher } from "../../crypto/token-cipher";
import { ReauthorizationRequired } from "../../errors";
import type { GithubOAuth, TokenSet } from "../../github/oauth";
import { OAuthRejected } from "../../github/oauth-rejected";
import { findGithubUser, markReauthorizationRequired } from "../../repositories/github-users";
import type { EventRecorder } from "../events/platform-events";
import {
  deleteUserToken,
  findUserToken,
  lockUserToken,
  NewUserToken,
  replaceUserToken,
  saveUserToken,
  StoredUserToken,
} from "../../repositories/user-tokens";

export const NEVER_SIGNED_IN = "Sign in with GitHub first: this GitHub user has not signed in to Octoplex yet";

/** A token with less than this left is refreshed first: a GitHub call may take a while. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface UserTokensDeps {
  db: Knex;
  cipher: TokenCipher;
  oauth: GithubOAuth;
  now: () => Date;
  log: Logger;
  events: EventRecorder;
}

/** Encryption contexts bind a ciphertext to its user and column (see token-cipher). */
export const accessContext = (userId: number) => `user_tokens.access:${userId}`;
export const refreshContext = (userId: number) => `user_tokens.refresh:${userId}`;

/**
 * User access tokens: stored encrypted, refreshed exactly once per expiry. GitHub's refresh tokens
 * are single-use, so two refreshes of one token lose the user's grant: one in-flight refresh per
 * user in this process, and a row lock across processes.
 */
export function createUserTokens({ db, cipher, oauth, now, log, events }: UserTokensDeps) {
  const inFlight = new Map<number, Promise<string>>();

  function encrypt(userId: number, set: TokenSet): NewUserToken {
    return {
      githubUserId: userId,
      keyId: cipher.currentKeyId,
      accessTokenEncrypted: cipher.encrypt(set.token, accessContext(userId)),
      accessTokenExpiresAt: set.expiresAt,
      refreshTokenEncrypted: set.refreshToken ? cipher.encrypt(set.refreshToken, refreshContext(userId)) : null,
      refreshTokenExpiresAt: set.refreshTokenExpiresAt,
    };
  }

  const usable = (row: StoredUserToken) =>
    row.accessTokenExpiresAt === null || row.accessTokenExpiresAt.getTime() - now().getTime() > REFRESH_MARGIN_MS;

  /** Forgets the grant and marks the user, inside `trx` when given. Callers then throw. */
  async function forget(trx: Knex | Knex.Transaction, userId: number, why: string) {
    await deleteUserToken(trx, userId);
    await markReauthorizationRequired(trx, userId, now());
    await events.record(trx, [{ type: "user.reauthorization_required", subject: `user:${userId}`, data: { githubUserId: userId, reason: why } }]);
    log.warn({ githubUserId: userId, why }, "user must sign in again");
  }

  async function refreshLocked(userId: number): Promise<string> {
    const outcome = await db.transaction(async (trx) => {
      const row = await lockUserToken(trx, userId);
      if (!row) return { reauthorize: true as const };
      // Another process may have refreshed while this one waited for the lock.
      if (usable(row)) return { token: cipher.decrypt(row.accessTokenEncrypted, accessContext(userId)) };
      const refreshExpired = row.refreshTokenExpiresAt !== null && row.refreshTokenExpiresAt <= now();
      if (!row.refreshTokenEncrypted || refreshExpired) {
        await forget(trx, userId, refreshExpired ? "refresh token expired" : "no refresh token");
        return { reauthorize: true as const };
      }
      let fresh: TokenSet;
      try {
        fresh = await oauth.refresh(cipher.decrypt(row.refreshTokenEncrypted, refreshContext(userId)));
      } catch (error) {
        if (!(error instanceof OAuthRejected)) throw error;
        await forget(trx, userId, `GitHub refused the refresh token (${error.reason})`);
        return { reauthorize: true as const };
      }
      // The old refresh token is spent: the new pair is committed before anyone uses it.
      if (!(await replaceUserToken(trx, encrypt(userId, fresh), row.version, now()))) {
        throw new Error("user token changed under the row lock");
      }
      return { token: fresh.token };
    });
    if ("reauthorize" in outcome) throw new ReauthorizationRequired(userId);
    return outcome.token;
  }

  return {
    /** Stores a fresh pair from a sign-in, replacing any earlier one. */
    async store(userId: number, set: TokenSet, trx: Knex | Knex.Transaction = db): Promise<void> {
      await saveUserToken(trx, encrypt(userId, set), now());
    },

    /** A token with more than five minutes left, refreshing it first when needed. */
    async get(userId: number): Promise<string> {
      const row = await findUserToken(db, userId);
      if (!row) {
        // "Sign in again" would be wrong for someone who never has.
        if (!(await findGithubUser(db, userId))) throw new ReauthorizationRequired(userId, NEVER_SIGNED_IN);
        throw new ReauthorizationRequired(userId);
      }
      if (usable(row)) return cipher.decrypt(row.accessTokenEncrypted, accessContext(userId));
      let pending = inFlight.get(userId);
      if (!pending) {
        pending = refreshLocked(userId).finally(() => inFlight.delete(userId));
        inFlight.set(userId, pending);
      }
      return pending;
    },

    /**
     * Called when GitHub answered 401 to a call made with the user's token: asks GitHub whether
     * the token is still valid, and forgets the grant when it is not (a revoked authorization).
     */
    async verifyAfterUnauthorized(userId: number): Promise<never> {
      const row = await findUserToken(db, userId);
      if (row && (await oauth.isTokenValid(cipher.decrypt(row.accessTokenEncrypted, accessContext(userId))))) {
        throw new Error("GitHub refused a user token that it still considers valid");
      }
      await db.transaction((trx) => forget(trx, userId, "GitHub no longer accepts the token"));
      throw new ReauthorizationRequired(userId);
    },

    /** Signs out at GitHub too: deletes the grant, so every token of it stops working. */
    async revokeGrant(userId: number): Promise<void> {
      const row = await findUserToken(db, userId);
      if (row) await oauth.deleteAuthorization(cipher.decrypt(row.accessTokenEncrypted, accessContext(userId)));
      await deleteUserToken(db, userId);
    },
  };
}

export type UserTokens = ReturnType<typeof createUserTokens>;
