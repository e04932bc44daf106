import { randomBytes } from "node:crypto";
import { Db, Dialect, dialectOf } from "../db/knex";
import { jsonRowsToJoin, JsonStatement, runStatement } from "../db/json-statements";
import { ORDERING_LOCK_STRIPES, OUTBOX_LOCK_SPACE } from "./outbox";
import { dbTime } from "./rows";

/** One GitHub delivery to route to the teams that want it. */
export interface GithubEvent {
  deliveryId: string;
  installationId: number;
  /** GitHub's event type: push, pull_request, … */
  event: string;
  action: string | null;
  repository: { id: number; fullName: string } | null;
  /** GitHub's payload as the JSON text to send, unchanged. */
  payload: string;
}

/**
 * The envelope of a routed event ends with this, its `data.payload` left out of the row: the
 * payload is stored once per delivery (github_event_payloads) and spliced in when the event is
 * sent (outbox.ts attachBodies), so fifty teams do not cost fifty copies of a 25 MB push.
 */
export const PAYLOAD_PLACEHOLDER = '"payload":null}}';

const EVENT_COLUMNS = [
  ["ord", "bigint"],
  ["delivery_id", "text"],
  ["installation_id", "bigint"],
  ["event", "text"],
  ["repository_id", "bigint"],
  ["message_prefix", "text"],
  ["type", "text"],
  ["key_suffix", "text"],
  ["head", "text"],
  ["rest", "text"],
  ["created_at", "timestamptz"],
  ["give_up_at", "timestamptz"],
] as const;

const PAYLOAD_ROW_COLUMNS = [
  ["delivery_id", "text"],
  ["installation_id", "bigint"],
  ["event", "text"],
  ["repository_id", "bigint"],
  ["created_at", "timestamptz"],
] as const;
// The payload is read from the statement's bytes, by its 1-based offset and length in bytes: as
// a JSON string, escaped, it cost SQLite more to read than the rest of the batch.
const PAYLOAD_COLUMNS = [...PAYLOAD_ROW_COLUMNS, ["payload_at", "bigint"], ["payload_bytes", "bigint"]] as const;
const PAYLOAD_TEXT = {
  postgres: "convert_from(substring({blob}::bytea from p.payload_at::int for p.payload_bytes::int), 'UTF8')",
  sqlite: "CAST(substr({blob}, p.payload_at, p.payload_bytes) AS TEXT)",
};

/**
 * The teams a delivery row `r` goes to, as tables to join after `r` and the condition on them:
 * linked to its installation (live: present and not suspended), subscribed to its type, and whose
 * scope covers its repository ("all", or listed), or every such team when it names no repository.
 */
const RECIPIENT_TABLES =
  "installations i JOIN team_installations ti ON ti.installation_id = i.id JOIN team_subscriptions ts ON ts.team_id = ti.team_id";

function recipientCondition(r: string): string {
  return (
    `i.id = ${r}.installation_id AND i.suspended_at IS NULL AND ts.event = ${r}.event AND (${r}.repository_id IS NULL OR ti.repository_scope = 'all' ` +
    `OR EXISTS (SELECT 1 FROM team_installation_repositories s WHERE s.team_id = ti.team_id AND s.installation_id = ti.installation_id AND s.repository_id = ${r}.repository_id))`
  );
}

/** FROM the JSON rows (as `r`) and their recipients (`ti`): one row per (delivery, team). */
function fromRecipients(dialect: Dialect, columns: Parameters<typeof jsonRowsToJoin>[1]): string {
  // CROSS JOIN: SQLite then loops over the few deliveries first and looks each one's links up.
  return `FROM (${jsonRowsToJoin(dialect, columns)}) r CROSS JOIN ${RECIPIENT_TABLES} WHERE ${recipientCondition("r")}`;
}

const hex8 = (dialect: Dialect, column: string) => (dialect === "postgres" ? `lpad(to_hex(${column}), 8, '0')` : `printf('%08x', ${column})`);

/** The JSON rows of the statements below, for deliveries in this order. */
export interface GithubEventRows {
  events: Array<Record<string, unknown>>;
  payloads: Array<Record<string, unknown>>;
}

export function githubEventRows(events: GithubEvent[], occurredAt: Date, giveUpAt: Date): GithubEventRows {
  return {
    events: events.map((e, ord) => {
      const type = `github.${e.event}`;
      const data = { installationId: e.installationId, deliveryId: e.deliveryId, event: e.event, action: e.action, repository: e.repository };
      return {
        ord,
        delivery_id: e.deliveryId,
        installation_id: e.installationId,
        event: e.event,
        repository_id: e.repository?.id ?? null,
        // 24 random hex digits per delivery, the team id's 8 after them: distinct per row.
        message_prefix: `msg_${randomBytes(12).toString("hex")}`,
        type,
        // Per (team, repository): one repository's events do not wait behind another's.
        key_suffix: e.repository ? `:repo:${e.repository.id}` : `:installation:${e.installationId}`,
        head: `","type":${JSON.stringify(type)},"occurredAt":${JSON.stringify(occurredAt.toISOString())},"data":{"teamId":`,
        rest: `,${JSON.stringify(data).slice(1, -1)},${PAYLOAD_PLACEHOLDER}`,
        created_at: dbTime(occurredAt),
        give_up_at: dbTime(giveUpAt),
      };
    }),
    payloads: events.map((e) => ({
      delivery_id: e.deliveryId,
      installation_id: e.installationId,
      event: e.event,
      repository_id: e.repository?.id ?? null,
      payload: e.payload,
      created_at: dbTime(occurredAt),
    })),
  };
}

/** Stores each delivery's payload, once, when at least one team receives it. */
export function insertPayloadsStatement(dialect: Dialect, rows: GithubEventRows): JsonStatement {
  const sql =
    `INSERT INTO github_event_payloads (delivery_id, installation_id, event, payload, created_at) ` +
    `SELECT p.delivery_id, p.installation_id, p.event, ${PAYLOAD_TEXT[dialect]}, p.created_at FROM (${jsonRowsToJoin(dialect, PAYLOAD_COLUMNS)}) p ` +
    `WHERE EXISTS (SELECT 1 FROM ${RECIPIENT_TABLES} WHERE ${recipientCondition("p")})`;
  const texts = rows.payloads.map((p) => Buffer.from(p.payload as string, "utf8"));
  let at = 1;
  const json = rows.payloads.map(({ payload: _, ...row }, k) => {
    const placed = { ...row, payload_at: at, payload_bytes: texts[k].length };
    at += texts[k].length;
    return placed;
  });
  return { sql, json, blob: Buffer.concat(texts, at - 1) };
}

/**
 * One outbox event per delivery and receiving team, written by the database from the links and
 * subscriptions: in delivery order, then by team, so ids follow the order GitHub sent them in.
 */
export function insertEventsStatement(dialect: Dialect, rows: GithubEventRows): JsonStatement {
  const messageId = `r.message_prefix || ${hex8(dialect, "ti.team_id")}`;
  return {
    sql:
      `INSERT INTO outbox_events (message_id, type, ordering_key, team_id, payload, status, attempts, next_attempt_at, give_up_at, created_at, github_delivery_id) ` +
      `SELECT ${messageId}, r.type, 'team:' || ti.team_id || r.key_suffix, ti.team_id, '{"id":"' || ${messageId} || r.head || ti.team_id || r.rest, ` +
      `'pending', 0, r.created_at, r.give_up_at, r.created_at, r.delivery_id ` +
      `${fromRecipients(dialect, EVENT_COLUMNS)} ORDER BY r.ord, ti.team_id`,
    json: rows.events,
  };
}

/**
 * Postgres: the ordering-key lock stripes of the events (outbox.ts lockOrderingKeys), as a
 * condition that always holds, so that the one-round-trip commit takes them before its inserts
 * draw ids. SQLite has one writer: nothing to take.
 */
export function lockStripesCondition(dialect: Dialect, rows: GithubEventRows): JsonStatement | undefined {
  if (dialect !== "postgres") return undefined;
  const keys = `SELECT 'team:' || ti.team_id || r.key_suffix AS k ${fromRecipients(dialect, EVENT_COLUMNS)}`;
  return {
    sql:
      `SELECT count(pg_advisory_xact_lock(${OUTBOX_LOCK_SPACE}, stripe)) >= 0 FROM ` +
      `(SELECT DISTINCT hashtext(k) & ${ORDERING_LOCK_STRIPES - 1} AS stripe FROM (${keys}) AS keys ORDER BY stripe) AS stripes`,
    json: rows.events,
  };
}

/** The statements above through knex, in the caller's transaction. */
export async function insertGithubEvents(db: Db, events: GithubEvent[], occurredAt: Date, giveUpAt: Date): Promise<void> {
  if (events.length === 0) return;
  const dialect = dialectOf(db);
  const rows = githubEventRows(events, occurredAt, giveUpAt);
  const lock = lockStripesCondition(dialect, rows);
  if (lock) await runStatement(db, lock);
  await runStatement(db, insertPayloadsStatement(dialect, rows));
  await runStatement(db, insertEventsStatement(dialect, rows));
}

/**
 * Deletes the payloads stored before `cutoff` that no event names any more (all delivered and
 * purged); returns how many. A payload and its events share their created_at (one statement
 * writes them), so only the events older than the cutoff, read through their index by
 * created_at, can name it.
 */
export async function deleteUnreferencedPayloads(db: Db, cutoff: Date): Promise<number> {
  const before = dbTime(cutoff);
  return db("github_event_payloads")
    .where("created_at", "<", before)
    .whereNotIn("delivery_id", db("outbox_events").whereNotNull("github_delivery_id").andWhere("created_at", "<", before).select("github_delivery_id"))
    .delete();
}
