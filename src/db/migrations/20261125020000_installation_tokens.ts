import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Installation access tokens shared by every process, so N processes mint one per hour.
  await knex.schema.createTable("installation_tokens", (t) => {
    t.string("cache_key", 512).primary();
    t.bigInteger("installation_id").notNullable();
    t.text("value_encrypted").notNullable();
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.index(["installation_id"]);
  });
  // Who is minting a token right now: the others wait for it instead of minting their own.
  await knex.schema.createTable("installation_token_leases", (t) => {
    t.string("cache_key", 512).primary();
    t.timestamp("expires_at", { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("installation_token_leases");
  await knex.schema.dropTableIfExists("installation_tokens");
}
