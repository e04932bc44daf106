import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Events for the platform, written in the same transaction as the change that causes them.
  await knex.schema.createTable("outbox_events", (t) => {
    t.increments("id").primary();
    // The Standard Webhooks `webhook-id`: stable across retries, so receivers de-duplicate.
    t.string("message_id", 64).notNullable().unique();
    t.string("type").notNullable();
    // Events of one team (or one installation, for events without a team) are delivered in order.
    t.string("ordering_key").notNullable();
    t.integer("team_id");
    t.text("payload").notNullable();
    t.string("status").notNullable();
    t.integer("attempts").notNullable().defaultTo(0);
    t.timestamp("next_attempt_at", { useTz: true }).notNullable();
    // After this, a failing event is marked failed instead of retried (`events retry` resets it).
    t.timestamp("give_up_at", { useTz: true }).notNullable();
    t.timestamp("locked_until", { useTz: true });
    t.text("last_error");
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("delivered_at", { useTz: true });
    t.index(["status", "next_attempt_at"]);
    t.index(["ordering_key", "id"]);
  });
  // Small pieces of state a job keeps between runs (e.g. where `redeliver` stopped).
  await knex.schema.createTable("job_state", (t) => {
    t.string("name").primary();
    t.text("value").notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("job_state");
  await knex.schema.dropTableIfExists("outbox_events");
}
