import type { Knex } from "knex";

// Routed events were indexed by their GitHub delivery id, for the purge of payloads no event
// names any more. Delivery ids are random: each delivery's ten rows went into a random leaf of
// that index, and as the outbox grew past a few hundred thousand events that one index doubled
// the cost of the fan-out's INSERT on SQLite (bench/results.md). An index by created_at grows at
// its right edge only, and serves the purge as well: a payload and its events are written in one
// statement with one created_at, so a payload older than the cutoff can only be named by events
// older than the cutoff, the few the purge of delivered events leaves.
const OLD = "outbox_events_github_delivery_id_index";
const NEW = "outbox_events_routed_created_at_index";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], OLD);
    t.index(["created_at"], NEW, { predicate: knex.whereNotNull("github_delivery_id") });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], NEW);
    t.index(["github_delivery_id"], OLD, { predicate: knex.whereNotNull("github_delivery_id") });
  });
}
