import { randomBytes, randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { Db, isPostgres } from "../db/knex";
import { dbTime, parseJson, toDate, toDateOrNull, toNumber, toNumberOrNull } from "./rows";

export type OutboxStatus = "pending" | "delivered" | "failed";

export interface OutboxEvent {
  id: number;
  messageId: string;
  type: string;
  orderingKey: string;
  teamId: number | null;
  payload: Record<string, unknown>;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  giveUpAt: Date;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  /** A routed GitHub event's delivery, whose payload is stored once (github_event_payloads); null for Octoplex's own. */
  githubDeliveryId: string | null;
  /** The exact JSON to send, when it is not `payload` as is (attachBodies). */
  body?: string;
}

const TABLE = "outbox_events";
// The first key of the two-key advisory locks taken per ordering key ("outb").
export const OUTBOX_LOCK_SPACE = 0x6f757462;
/** A power of two, at most half the lock table's share of a connection. */
export const ORDERING_LOCK_STRIPES = 32;

/**
 * A Standard Webhooks message id: `msg_` and 32 hex digits, 122 of their bits random (a v4 UUID).
 * Two alike are as unlikely as two UUIDs alike, so no index checks them: one cost a fifth of
 * writing an installation's 10,000 events, and nothing looks an event up by its message id.
 */
export function newMessageId(): string {
  return `msg_${randomUUID().replace(/-/g, "")}`;
}

/**
 * The message id of each team's row of one statement, as SQL: `msg_`, 24 hex digits drawn at
 * random for the statement, and the team id's 8. Distinct within the statement (one row per team)
 * and, by 96 random bits, across statements; drawing one UUID per row in Postgres cost a fifth of
 * writing an installation's 10,000 events.
 */
function teamMessageIdSql(db: Db): { sql: string; prefix: string } {
  const hex8 = isPostgres(db) ? "lpad(to_hex(team_id), 8, '0')" : "printf('%08x', team_id)";
  return { sql: `? || ${hex8}`, prefix: `msg_${randomBytes(12).toString("hex")}` };
}

export function mapRow(row: Record<string, unknown>): OutboxEvent {
  return {
    id: toNumber(row.id),
    messageId: row.message_id as string,
    type: row.type as string,
    orderingKey: row.ordering_key as string,
    teamId: toNumberOrNull(row.team_id),
    payload: parseJson(row.payload, {}),
    status: row.status as OutboxStatus,
    attempts: toNumber(row.attempts),
    nextAttemptAt: toDate(row.next_attempt_at),
    giveUpAt: toDate(row.give_up_at),
    lastError: (row.last_error as string | null) ?? null,
    createdAt: toDate(row.created_at),
    deliveredAt: toDateOrNull(row.delivered_at),
    githubDeliveryId: (row.github_delivery_id as string | null) ?? null,
  };
}

export async function insertOutboxEvents(
  db: Db,
  events: Array<{ messageId: string; type: string; orderingKey: string; teamId: number | null; payload: object }>,
  now: Date,
  giveUpAt: Date,
): Promise<void> {
  if (events.length === 0) return;
  await lockOrderingKeys(db, "select unnest(?::text[]) as k", [[...new Set(events.map((e) => e.orderingKey))]]);
  const rows = events.map((e) => ({
    message_id: e.messageId,
    type: e.type,
    ordering_key: e.orderingKey,
    team_id: e.teamId,
    payload: JSON.stringify(e.payload),
    status: "pending",
    attempts: 0,
    next_attempt_at: dbTime(now),
    give_up_at: dbTime(giveUpAt),
    created_at: dbTime(now),
  }));
  // 500 rows × 10 columns stays under SQLite's limit of bound variables per statement.
  for (let i = 0; i < rows.length; i += 500) await db(TABLE).insert(rows.slice(i, i + 500));
}

/**
 * Ids come from a sequence, so on Postgres two transactions can commit a team's events out of id
 * order, and the dispatcher would send the later one first. Until the caller commits, other
 * writers for the same ordering key wait here (SQLite's single writer already serialises them).
 * The keys hash onto ORDERING_LOCK_STRIPES advisory locks: one lock per key ran Postgres's shared
 * lock table (64 locks per connection by default) out of memory as soon as three installations
 * of 10,000 teams were deleted at once, failing every transaction and even new connections. Two
 * writers of different keys on one stripe wait for each other's commit, that is all. Sorted,
 * so that two transactions taking several stripes do not deadlock; one round trip for all the
 * keys `keysSql` selects (as `k`).
 */
async function lockOrderingKeys(db: Db, keysSql: string, bindings: Knex.RawBinding[]): Promise<void> {
  if (!isPostgres(db)) return;
  await db.raw(
    `select count(pg_advisory_xact_lock(?, stripe)) from (select distinct hashtext(k) & ? as stripe from (${keysSql}) as keys order by stripe) as stripes`,
    [OUTBOX_LOCK_SPACE, ORDERING_LOCK_STRIPES - 1, ...bindings],
  );
}

/**
 * One event for every team linked to an installation (ordered by team), written by the database
 * from the links themselves: one statement however many teams. `data` gets each event's `teamId`.
 */
export async function insertOutboxEventsForLinkedTeams(
  db: Db,
  installationId: number,
  event: { type: string; occurredAt: string; data: Record<string, unknown> },
  now: Date,
  giveUpAt: Date,
): Promise<void> {
  const linkedTeams = "from team_installations where installation_id = ?";
  await lockOrderingKeys(db, `select 'team:' || team_id as k ${linkedTeams}`, [installationId]);
  // The payload is spliced around the message id and the team id as text: cheaper for the
  // database than building JSON 10,000 times.
  const messageId = teamMessageIdSql(db);
  const rest = JSON.stringify(event.data).slice(1); // `"installationId":1,"reason":"…"}`, or `}`
  const head = `","type":${JSON.stringify(event.type)},"occurredAt":${JSON.stringify(event.occurredAt)},"data":{"teamId":`;
  const at = isPostgres(db) ? "?::timestamptz" : "?";
  await db.raw(
    `with m as (select team_id, ${messageId.sql} as message_id ${linkedTeams})
     insert into ${TABLE} (message_id, type, ordering_key, team_id, payload, status, attempts, next_attempt_at, give_up_at, created_at)
     select m.message_id, ?, 'team:' || m.team_id, m.team_id, '{"id":"' || m.message_id || ? || m.team_id || ?, 'pending', 0, ${at}, ${at}, ${at}
     from m order by m.team_id`,
    [messageId.prefix, installationId, event.type, head, `${rest === "}" ? "" : ","}${rest}}`, dbTime(now), dbTime(giveUpAt), dbTime(now)],
  );
}

export async function listOutboxEvents(db: Db, filter: { status?: OutboxStatus } = {}): Promise<OutboxEvent[]> {
  const query = db(TABLE).orderBy("id");
  if (filter.status) query.where({ status: filter.status });
  return (await query).map(mapRow);
}

/** Puts failed events back in line, now; returns how many. */
export async function requeueFailed(db: Db, ids: number[] | "all", now: Date, giveUpAt: Date): Promise<number> {
  const query = db(TABLE).where({ status: "failed" });
  if (ids !== "all") query.whereIn("id", ids);
  return query.update({ status: "pending", next_attempt_at: dbTime(now), give_up_at: dbTime(giveUpAt), locked_until: null });
}

// How the envelope of a routed GitHub event ends (github-event-outbox.ts PAYLOAD_PLACEHOLDER):
// GitHub's payload takes the place of the null.
const PAYLOAD_NULL = '"payload":null}}';

/**
 * Sets `body` on the routed GitHub events among `events`: the envelope with GitHub's payload in
 * `data.payload`, spliced in as text (a 25 MB payload is read once for all its teams, and never
 * parsed). An event whose payload row is missing keeps no body and is sent as stored.
 */
export async function attachBodies(db: Db, events: OutboxEvent[]): Promise<void> {
  const ids = [...new Set(events.flatMap((e) => (e.githubDeliveryId ? [e.githubDeliveryId] : [])))];
  if (ids.length === 0) return;
  const payloads = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db("github_event_payloads").whereIn("delivery_id", ids.slice(i, i + 500)).select("delivery_id", "payload");
    for (const row of rows) payloads.set(row.delivery_id as string, row.payload as string);
  }
  for (const event of events) {
    const payload = event.githubDeliveryId ? payloads.get(event.githubDeliveryId) : undefined;
    const envelope = JSON.stringify(event.payload);
    if (payload !== undefined && envelope.endsWith(PAYLOAD_NULL)) event.body = `${envelope.slice(0, -"null}}".length)}${payload}}}`;
  }
}

/**
 * Deletes delivered events delivered before `cutoff`, oldest first, in chunks (a short lock each);
 * returns how many. Pending and failed events stay, whatever their age.
 */
export async function deleteDeliveredBefore(db: Db, cutoff: Date, chunk = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const oldest = db(TABLE).whereRaw("status = 'delivered'").andWhere("delivered_at", "<", dbTime(cutoff)).orderBy("delivered_at").limit(chunk).select("id");
    const deleted = await db(TABLE).whereIn("id", oldest).delete();
    total += deleted;
    if (deleted < chunk) return total;
  }
}
