import type { Knex } from "knex";

// Routed GitHub events are audited when they are delivered or given up (issue 22): as many rows
// as events, purged after EVENT_RETENTION like the events themselves. This index serves that
// purge (oldest first) without reading the rest of the trail, which is kept for good; the purge
// repeats its predicate word for word, so both databases see that it applies.
const NAME = "audit_events_routed_created_at_index";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("audit_events", (t) => {
    t.index(["created_at"], NAME, { predicate: knex.whereRaw("action like 'github.%'") });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("audit_events", (t) => {
    t.dropIndex([], NAME);
  });
}
