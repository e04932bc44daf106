import type { Knex } from "knex";
import { Db, isPostgres } from "../db/knex";
import { mapRow, OutboxEvent } from "./outbox";
import { auditRoutedSql } from "./routed-event-audit";
import { dbTime } from "./rows";

const TABLE = "outbox_events";

export interface DeliverableOptions {
  /** Ordering keys (queues) taken in one pass, at most. */
  keys: number;
  /** Queues of one team taken in one pass, at most: teams take turns, none fills the pass alone. */
  perTeam: number;
  /** Consecutive events of one queue taken together, sent one after another. */
  chain: number;
}

/** `id` is one of `ids`, bound as a single value whatever their number. */
function idIn(db: Db, ids: number[], column = "id"): { sql: string; binding: Knex.RawBinding } {
  return isPostgres(db)
    ? { sql: `${column} = any(?::bigint[])`, binding: ids as unknown as Knex.RawBinding }
    : { sql: `${column} in (select value from json_each(?))`, binding: JSON.stringify(ids) };
}

/**
 * The next events to send, as chains: per ordering key its first pending event (only the first is
 * eligible, so a key's events go out in order) when it is due and unclaimed, with up to `chain` - 1
 * pending events that follow it. Teams take turns: each team's eligible keys are ranked by their
 * first event's id, and a pass takes every team's first, then every team's second, … at most
 * `perTeam` of a team, so a backlog of 100,000 events or a failing endpoint (its first events
 * wait out their backoff, not eligible) does not hold up another team's event. Events without a
 * team count as a team of their key.
 *
 * Each key's first event comes from one pass over the index of pending events by (key, id), read
 * without the table (a group by that keeps the first id): with 100,000 pending events that cost
 * less than walking the keys one index probe at a time (a recursive loose index scan: 2-3× slower
 * with 1,000 keys, 5× with 10,000), and far less than numbering every pending row. Its cost grows
 * with the events waiting, not with the history behind them.
 */
export async function listDeliverable(db: Db, now: Date, options: DeliverableOptions): Promise<number[][]> {
  // Literal status everywhere: the predicate of the partial indexes of pending events.
  const pending = (alias: string) => `${alias}.status = 'pending'`;
  // Each key's first event and its followers are read row by row through the primary key and the
  // index by (key, id): on Postgres as LATERAL subqueries (OFFSET 0 and LIMIT keep them from being
  // flattened), so that no estimate turns them into a hash join over the whole table.
  const postgres = isPostgres(db);
  const at = postgres ? "?::timestamptz" : "?";
  const head = postgres
    ? `heads cross join lateral (select id, ordering_key, team_id, next_attempt_at, locked_until from ${TABLE} where id = heads.id offset 0) e`
    : `heads join ${TABLE} e on e.id = heads.id`;
  const chain = postgres
    ? `chosen c cross join lateral (select o.id from ${TABLE} o where ${pending("o")} and o.ordering_key = c.ordering_key and o.id >= c.id order by o.ordering_key, o.id limit ?) o`
    : `chosen c join ${TABLE} o on o.id in (select p.id from ${TABLE} p where ${pending("p")} and p.ordering_key = c.ordering_key and p.id >= c.id order by p.ordering_key, p.id limit ?)`;
  const sql = `
    with heads as (select min(id) as id from ${TABLE} where status = 'pending' group by ordering_key),
    turns as (
      select e.id, e.ordering_key,
        row_number() over (partition by e.team_id, case when e.team_id is null then e.ordering_key end order by e.id) as turn
      from ${head}
      where e.next_attempt_at <= ${at} and (e.locked_until is null or e.locked_until <= ${at})
    ),
    chosen as materialized (select id, ordering_key, turn from turns where turn <= ? order by turn, id limit ?)
    select c.id as head_id, o.id from ${chain}
    order by c.turn, c.id, o.id`;
  const bindings = [dbTime(now), dbTime(now), options.perTeam, options.keys, options.chain];
  const result = await db.raw(sql, bindings);
  const rows = (postgres ? result.rows : result) as Array<{ head_id: unknown; id: unknown }>;
  const chains = new Map<number, number[]>();
  for (const row of rows) {
    const head = Number(row.head_id);
    const chain = chains.get(head) ?? [];
    chain.push(Number(row.id));
    chains.set(head, chain);
  }
  return [...chains.values()];
}

/**
 * Claims, in one statement, those of `ids` still pending and unclaimed, for one dispatcher (across
 * processes) until `until`; returns them. On Postgres the rows are locked in id order, so two
 * dispatchers claiming overlapping batches wait for each other instead of deadlocking, and the
 * later one finds them claimed.
 */
export async function claimOutboxEvents(db: Db, ids: number[], until: Date, now: Date): Promise<OutboxEvent[]> {
  if (ids.length === 0) return [];
  const ours = idIn(db, ids);
  if (isPostgres(db)) {
    const result = await db.raw(
      `update ${TABLE} as o set locked_until = ?::timestamptz
       from (select id from ${TABLE} where ${ours.sql} and status = 'pending' and (locked_until is null or locked_until <= ?::timestamptz) order by id for update) as c
       where o.id = c.id returning o.*`,
      [dbTime(until), ours.binding, dbTime(now)],
    );
    return (result.rows as Array<Record<string, unknown>>).map(mapRow);
  }
  const rows = await db.raw(
    `update ${TABLE} set locked_until = ? where ${ours.sql} and status = 'pending' and (locked_until is null or locked_until <= ?) returning *`,
    [dbTime(until), ours.binding, dbTime(now)],
  );
  return (rows as Array<Record<string, unknown>>).map(mapRow);
}

/** Gives back claimed events not sent (`until`: the claim's, so a claim another took since stays). */
export async function releaseClaims(db: Db, ids: number[], until: Date): Promise<void> {
  if (ids.length === 0) return;
  const ours = idIn(db, ids);
  await db.raw(`update ${TABLE} set locked_until = null where ${ours.sql} and locked_until = ${isPostgres(db) ? "?::timestamptz" : "?"}`, [ours.binding, dbTime(until)]);
}

/**
 * Marks events delivered and audits the routed ones among them (routed-event-audit.ts), together:
 * on Postgres in one statement (the update as a data-modifying CTE, whose rows the insert reads
 * as updated), on SQLite in one transaction. Only events still pending: one another dispatcher
 * sent and marked meanwhile (after this one's claim lapsed) is not counted or audited twice.
 */
export async function markDelivered(db: Db, ids: number[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  const at = dbTime(now);
  const set = `set status = 'delivered', delivered_at = ${isPostgres(db) ? "?::timestamptz" : "?"}, locked_until = null, attempts = attempts + 1, last_error = null`;
  const ours = idIn(db, ids);
  if (isPostgres(db)) {
    await db.raw(`with settled as (update ${TABLE} ${set} where ${ours.sql} and status = 'pending' returning *) ${auditRoutedSql(db, "delivered", "settled", "true")}`, [at, ours.binding, at]);
    return;
  }
  await db.transaction(async (trx) => {
    const updated = (await trx.raw(`update ${TABLE} ${set} where ${ours.sql} and status = 'pending' returning id`, [at, ours.binding])) as Array<{ id: unknown }>;
    if (updated.length === 0) return;
    const settled = idIn(trx, updated.map((row) => Number(row.id)), "o.id");
    await trx.raw(auditRoutedSql(trx, "delivered", TABLE, settled.sql), [at, settled.binding]);
  });
}

/**
 * Records a failed attempt: pending again until `next`, or, with no `next` (the retry window has
 * ended), failed for good, which a routed event's audit trail records with the same statement
 * (Postgres) or transaction (SQLite) as markDelivered.
 */
export async function markAttemptFailed(db: Db, id: number, error: string, next: Date | null, now: Date): Promise<void> {
  const lastError = error.slice(0, 1000);
  if (next) {
    await db(TABLE)
      .where({ id })
      .update({ status: "pending", next_attempt_at: dbTime(next), locked_until: null, attempts: db.raw("attempts + 1"), last_error: lastError });
    return;
  }
  const set = "set status = 'failed', locked_until = null, attempts = attempts + 1, last_error = ?";
  if (isPostgres(db)) {
    await db.raw(`with settled as (update ${TABLE} ${set} where id = ? returning *) ${auditRoutedSql(db, "failed", "settled", "true")}`, [lastError, id, dbTime(now)]);
    return;
  }
  await db.transaction(async (trx) => {
    await trx.raw(`update ${TABLE} ${set} where id = ?`, [lastError, id]);
    await trx.raw(auditRoutedSql(trx, "failed", TABLE, "o.id = ?"), [dbTime(now), id]);
  });
}
