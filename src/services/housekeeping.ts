import type { Knex } from "knex";
import { deleteExpiredOAuthStates } from "../repositories/oauth-states";
import { deleteExpiredRateLimits } from "../repositories/rate-limits";
import { deleteExpiredSessions } from "../repositories/sessions";

export interface PurgeReport {
  oauthStates: number;
  sessions: number;
  rateLimits: number;
}

/**
 * Deletes rows nobody can use any more: expired sign-in and install states, expired sessions,
 * rate-limit windows that have ended. Anonymous callers create the first and last, so without
 * this the tables only grow.
 */
export function createHousekeeping({ db, now }: { db: Knex; now: () => Date }) {
  return {
    async purgeExpired(): Promise<PurgeReport> {
      const at = now();
      return {
        oauthStates: await deleteExpiredOAuthStates(db, at),
        sessions: await deleteExpiredSessions(db, at),
        rateLimits: await deleteExpiredRateLimits(db, at),
      };
    },
  };
}

export type Housekeeping = ReturnType<typeof createHousekeeping>;
