import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // One row per bucket (what is limited, for which client) and fixed window: every instance
  // counts in the same row, incremented in one upsert. Old windows are purged by expires_at.
  await knex.schema.createTable("rate_limits", (t) => {
    t.string("bucket", 100).notNullable();
    t.timestamp("window_start", { useTz: true }).notNullable();
    t.integer("count").notNullable();
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.primary(["bucket", "window_start"]);
    t.index(["expires_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("rate_limits");
}
