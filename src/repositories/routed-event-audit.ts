import { Db, isPostgres } from "../db/knex";
import { dbTime } from "./rows";

/**
 * What became of a routed GitHub event (`github.<event>`), as its team's audit trail shows it.
 * Written when the dispatcher settles the event, never when GitHub's delivery is taken in: that
 * path is kept to the fewest writes. Octoplex's own events (`team.*`, `installation.*`) are
 * audited when they happen, so only `github.*` rows get one here.
 */
export type RoutedOutcome = "delivered" | "failed";

/** Repeated literally by every query on these rows: it is the predicate of their partial index. */
const ROUTED_ACTION = "action like 'github.%'";

/**
 * `INSERT … SELECT` of one audit row per routed event among the settled outbox rows `from` (as
 * `o`) that `where` keeps, in event order; bindings: created_at, then `where`'s. The envelope (the
 * `payload` column, its `"payload":null`) gives what only it holds; GitHub's payload never enters
 * the trail (a push can be 25 MB). `lastError` is the dispatcher's own message ("HTTP 500",
 * "timed out after …", a refused connection), never the receiver's answer.
 */
export function auditRoutedSql(db: Db, outcome: RoutedOutcome, from: string, where: string): string {
  const postgres = isPostgres(db);
  const json = (name: string) => (postgres ? `((o.payload::jsonb)->'data'->'${name}')` : `(o.payload -> '$.data.${name}')`);
  const text = (name: string) => (postgres ? `((o.payload::jsonb)->'data'->>'${name}')` : `(o.payload ->> '$.data.${name}')`);
  const fields = [
    `'eventId', o.message_id`,
    `'deliveryId', o.github_delivery_id`,
    `'event', ${text("event")}`,
    `'action', ${json("action")}`,
    `'repository', ${json("repository")}`,
    `'outcome', '${outcome}'`,
    `'attempts', o.attempts`,
    ...(outcome === "failed" ? [`'lastError', o.last_error`] : []),
  ];
  const data = postgres ? `json_build_object(${fields.join(", ")})::text` : `json_object(${fields.join(", ")})`;
  const installationId = postgres ? `${text("installationId")}::bigint` : text("installationId");
  return (
    `insert into audit_events (team_id, installation_id, actor_type, actor_id, action, data, created_at) ` +
    `select o.team_id, ${installationId}, 'github', null, o.type, ${data}, ${postgres ? "?::timestamptz" : "?"} ` +
    `from ${from} o where (${where}) and o.type like 'github.%' order by o.id`
  );
}

/**
 * Deletes routed events' audit rows written before `cutoff` (EVENT_RETENTION, as for their
 * events), oldest first, in chunks; returns how many. Read through the partial index of `github.*`
 * rows by created_at: the rest of the trail, kept for good, is not scanned.
 */
export async function deleteRoutedAuditBefore(db: Db, cutoff: Date, chunk = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const oldest = db("audit_events").whereRaw(ROUTED_ACTION).andWhere("created_at", "<", dbTime(cutoff)).orderBy("created_at").limit(chunk).select("id");
    const deleted = await db("audit_events").whereIn("id", oldest).delete();
    total += deleted;
    if (deleted < chunk) return total;
  }
}
