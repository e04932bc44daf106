import type { Knex } from "knex";
import { isPostgres } from "../knex";

// Postgres only, and the one migration outside the schema builder: storage parameters and column
// compression have no builder call, and SQLite has neither (no vacuum to tune, no TOAST).
//
// outbox_events is a queue: each delivered event leaves a dead entry in the index of pending
// events until a vacuum, and the dispatcher's choice of what to send walks that index. The
// default autovacuum waits for a fifth of the table to be dead, which for a week of events is
// millions of rows; measured here, 300,000 dead entries made each dispatcher pass take hundreds
// of milliseconds (bench/results.md). A fixed threshold keeps the index near its live size.
//
// GitHub's payloads are 5–30 kB of JSON, over the TOAST threshold: lz4 compresses them several
// times faster than the default pglz, on the webhook's hot path.
const QUEUE_SETTINGS = "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000";

async function hasLz4(knex: Knex): Promise<boolean> {
  const result = await knex.raw(
    "select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals) and current_setting('server_version_num')::int >= 140000",
  );
  return result.rows.length > 0;
}

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw(`alter table outbox_events set (${QUEUE_SETTINGS})`);
  if (await hasLz4(knex)) await knex.raw("alter table github_event_payloads alter column payload set compression lz4");
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw("alter table outbox_events reset (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)");
  if (await hasLz4(knex)) await knex.raw("alter table github_event_payloads alter column payload set compression default");
}
