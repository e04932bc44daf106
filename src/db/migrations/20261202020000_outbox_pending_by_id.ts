import type { Knex } from "knex";

// The dispatcher asks for the first pending events by id. Pending events are always the newest
// ids, but Postgres's estimate spreads them over the whole table: with 10,000 pending behind
// 200,000 delivered it walked the primary key through every delivered event, 50 ms a poll and
// growing with the history. An index of the pending ones by id answers in their order from the
// first pending one on; the one by next_attempt_at it replaces served no plan once that existed.
const pending = (knex: Knex) => ({ predicate: knex.whereRaw("status = 'pending'") });

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], "outbox_events_pending_next_attempt_at_index");
    t.index(["id"], "outbox_events_pending_id_index", pending(knex));
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], "outbox_events_pending_id_index");
    t.index(["next_attempt_at"], "outbox_events_pending_next_attempt_at_index", pending(knex));
  });
}
