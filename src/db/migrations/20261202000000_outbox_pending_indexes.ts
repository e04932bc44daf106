import type { Knex } from "knex";

// The dispatcher reads pending events only, and nearly every event is delivered within seconds.
// Indexes of the pending ones alone stay as small as the backlog however long the history grows
// (an event leaves them once delivered), and writing 10,000 events at once touches a few of their
// pages instead of pages all over indexes of the whole history. Message ids are random UUIDs that
// nothing looks up; their unique index cost a fifth of writing an installation's 10,000 events.
const pending = (knex: Knex) => ({ predicate: knex.whereRaw("status = 'pending'") });

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropUnique(["message_id"]);
    t.dropIndex(["status", "next_attempt_at"]);
    t.dropIndex(["ordering_key", "id"]);
    t.index(["next_attempt_at"], "outbox_events_pending_next_attempt_at_index", pending(knex));
    t.index(["ordering_key", "id"], "outbox_events_pending_ordering_key_id_index", pending(knex));
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], "outbox_events_pending_next_attempt_at_index");
    t.dropIndex([], "outbox_events_pending_ordering_key_id_index");
    t.index(["status", "next_attempt_at"]);
    t.index(["ordering_key", "id"]);
    t.unique(["message_id"]);
  });
}
