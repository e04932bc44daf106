import type { Knex } from "knex";
import { deleteUnreferencedPayloads } from "../repositories/github-event-outbox";
import { deleteDeliveredBefore } from "../repositories/outbox";
import { deleteExpiredOAuthStates } from "../repositories/oauth-states";
import { deleteExpiredRateLimits } from "../repositories/rate-limits";
import { deleteRoutedAuditBefore } from "../repositories/routed-event-audit";
import { deleteExpiredSessions } from "../repositories/sessions";

export interface PurgeReport {
  oauthStates: number;
  sessions: number;
  rateLimits: number;
  /** Events delivered to the platform longer ago than EVENT_RETENTION. */
  events: number;
  /** GitHub payloads no event names any more. */
  githubPayloads: number;
  /** Audit rows of routed GitHub events (delivered or given up) older than EVENT_RETENTION. */
  githubAudit: number;
}

/**
 * Deletes rows nobody can use any more: expired sign-in and install states, expired sessions,
 * rate-limit windows that have ended. Anonymous callers create the first and last, so without
 * this the tables only grow. Also the outbox's history: events delivered longer ago than
 * `eventRetentionMs`, then the GitHub payloads none of the remaining events names (failed and
 * pending events keep theirs), and the audit rows of routed GitHub events as old: there are as
 * many as events. The rest of the audit trail is kept.
 */
export function createHousekeeping({ db, now, eventRetentionMs }: { db: Knex; now: () => Date; eventRetentionMs: number }) {
  async function purgeEvents(cutoff: Date): Promise<Pick<PurgeReport, "events" | "githubPayloads" | "githubAudit">> {
    const events = await deleteDeliveredBefore(db, cutoff);
    const githubPayloads = await deleteUnreferencedPayloads(db, cutoff);
    return { events, githubPayloads, githubAudit: await deleteRoutedAuditBefore(db, cutoff) };
  }

  return {
    async purgeExpired(): Promise<PurgeReport> {
      const at = now();
      return {
        oauthStates: await deleteExpiredOAuthStates(db, at),
        sessions: await deleteExpiredSessions(db, at),
        rateLimits: await deleteExpiredRateLimits(db, at),
        ...(await purgeEvents(new Date(at.getTime() - eventRetentionMs))),
      };
    },
  };
}

export type Housekeeping = ReturnType<typeof createHousekeeping>;
