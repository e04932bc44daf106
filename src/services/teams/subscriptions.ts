import type { Knex } from "knex";
import { isPostgres } from "../../db/knex";
import { AppError } from "../../errors";
import { routableEventNames } from "../../github/routable-events";
import { appendAuditEvents } from "../../repositories/audit-events";
import { listSubscriptions, replaceSubscriptions } from "../../repositories/team-subscriptions";
import { Actor, auditActorOf, Teams } from "./teams";

/** Which of GitHub's event types a team receives (as `github.<event>` platform events). */
export function createSubscriptions({ db, now, teams }: { db: Knex; now: () => Date; teams: Teams }) {
  return {
    async get(actor: Actor, teamId: number): Promise<{ events: string[] }> {
      await teams.access(actor, teamId, "member");
      return { events: await listSubscriptions(db, teamId) };
    },

    /** Replaces the set; audited with before and after when it changed. */
    async put(actor: Actor, teamId: number, events: string[]): Promise<{ events: string[] }> {
      await teams.access(actor, teamId, "admin");
      const known = routableEventNames();
      const unknown = [...new Set(events.filter((e) => !known.includes(e)))];
      if (unknown.length > 0) {
        throw new AppError("invalid_input", `Unknown event type(s): ${unknown.join(", ")}. Known: ${known.join(", ")}`, {
          details: { unknown, known },
        });
      }
      const after = [...new Set(events)].sort();
      await db.transaction(async (trx) => {
        // Two admins at once: the second reads what the first wrote, so the audit trail chains.
        if (isPostgres(trx)) await trx("teams").where({ id: teamId }).forUpdate().first("id");
        const before = await listSubscriptions(trx, teamId);
        if (before.join() === after.join()) return;
        await replaceSubscriptions(trx, teamId, after);
        await appendAuditEvents(
          trx,
          [{ teamId, installationId: null, ...auditActorOf(actor), action: "team.subscriptions.changed", data: { before, after } }],
          now(),
        );
      });
      return { events: after };
    },
  };
}

export type Subscriptions = ReturnType<typeof createSubscriptions>;
