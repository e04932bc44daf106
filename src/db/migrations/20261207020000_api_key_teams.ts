import type { Knex } from "knex";

// An API key may be limited to named teams (api_key_teams); `team_limited` tells "limited to
// these" from "platform-wide", so a key whose teams were all deleted reaches none rather than all.
// Audit rows name the key that acted, next to the user it acted for; no foreign key, as the
// trail outlives what it names.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("api_keys", (t) => t.boolean("team_limited").notNullable().defaultTo(false));
  await knex.schema.createTable("api_key_teams", (t) => {
    t.integer("api_key_id").unsigned().notNullable().references("api_keys.id").onDelete("CASCADE");
    t.integer("team_id").unsigned().notNullable().references("teams.id").onDelete("CASCADE");
    t.primary(["api_key_id", "team_id"]);
    t.index(["team_id"]);
  });
  await knex.schema.alterTable("audit_events", (t) => t.integer("api_key_id"));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("audit_events", (t) => t.dropColumn("api_key_id"));
  await knex.schema.dropTable("api_key_teams");
  await knex.schema.alterTable("api_keys", (t) => t.dropColumn("team_limited"));
}
