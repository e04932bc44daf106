import type { Db } from "../db/knex";

const TABLE = "team_subscriptions";

/** The GitHub event types a team subscribes to, sorted. */
export async function listSubscriptions(db: Db, teamId: number): Promise<string[]> {
  return (await db(TABLE).where({ team_id: teamId }).orderBy("event").pluck("event")) as string[];
}

/** Replaces the team's subscriptions with `events` (distinct names). */
export async function replaceSubscriptions(db: Db, teamId: number, events: string[]): Promise<void> {
  await db(TABLE).where({ team_id: teamId }).delete();
  if (events.length > 0) await db(TABLE).insert(events.map((event) => ({ team_id: teamId, event })));
}
