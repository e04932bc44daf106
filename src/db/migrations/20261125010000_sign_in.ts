import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Only a hash of each state is kept: a database read does not yield a usable state.
  await knex.schema.createTable("oauth_states", (t) => {
    t.string("state_hash", 64).primary();
    t.string("purpose").notNullable();
    t.string("return_to").notNullable();
    t.integer("team_id");
    t.bigInteger("github_user_id");
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.timestamp("used_at", { useTz: true });
    t.index(["expires_at"]);
  });
  await knex.schema.alterTable("github_users", (t) => {
    // Set when GitHub refuses the user's refresh token or grant; cleared by signing in again.
    t.timestamp("reauthorization_required_at", { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("github_users", (t) => {
    t.dropColumn("reauthorization_required_at");
  });
  await knex.schema.dropTableIfExists("oauth_states");
}
