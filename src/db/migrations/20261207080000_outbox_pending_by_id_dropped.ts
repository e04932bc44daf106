import type { Knex } from "knex";

// The dispatcher no longer walks the pending events in id order (teams take turns; it starts
// from each ordering key's first event, through the index by (key, id)). The index of pending
// events by id served no query any more, cost a write for each of the events a delivery fans
// out to, and under statistics that lagged behind a burst Postgres took it to find a key's next
// events, walking every pending event after them.
const pending = (knex: Knex) => ({ predicate: knex.whereRaw("status = 'pending'") });

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], "outbox_events_pending_id_index");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.index(["id"], "outbox_events_pending_id_index", pending(knex));
  });
}
