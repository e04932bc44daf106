import type { Knex } from "knex";

// GitHub's events routed to the teams that subscribe to them (issue 22).
export async function up(knex: Knex): Promise<void> {
  // The event types (GitHub's names: push, pull_request, …) a team wants; its links say for which repositories.
  await knex.schema.createTable("team_subscriptions", (t) => {
    t.integer("team_id").unsigned().notNullable().references("teams.id").onDelete("CASCADE");
    t.string("event", 100).notNullable();
    t.primary(["team_id", "event"]);
  });
  // A delivery's payload, stored once however many teams receive it (a 25 MB push to 50 teams
  // is one copy). Its outbox events name it; housekeeping removes it once none is left.
  await knex.schema.createTable("github_event_payloads", (t) => {
    t.string("delivery_id", 100).primary();
    t.bigInteger("installation_id").notNullable();
    t.string("event", 100).notNullable();
    t.text("payload").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.index(["created_at"]);
  });
  // No foreign key: on SQLite adding one rebuilds outbox_events (and its partial indexes), and the
  // rows of both tables are written by the same statement of the same transaction anyway. The
  // partial index serves housekeeping's "does any event still use this payload" and costs
  // nothing for Octoplex's own events.
  // The second serves the retention purge (EVENT_RETENTION): the oldest delivered events first,
  // without reading the rest of the history.
  await knex.schema.alterTable("outbox_events", (t) => {
    t.string("github_delivery_id", 100).nullable();
    t.index(["github_delivery_id"], "outbox_events_github_delivery_id_index", { predicate: knex.whereNotNull("github_delivery_id") });
    t.index(["delivered_at"], "outbox_events_delivered_at_index", { predicate: knex.whereRaw("status = 'delivered'") });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("outbox_events", (t) => {
    t.dropIndex([], "outbox_events_github_delivery_id_index");
    t.dropIndex([], "outbox_events_delivered_at_index");
    t.dropColumn("github_delivery_id");
  });
  await knex.schema.dropTable("github_event_payloads");
  await knex.schema.dropTable("team_subscriptions");
}
