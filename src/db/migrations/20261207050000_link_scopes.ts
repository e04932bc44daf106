import type { Knex } from "knex";

// A link covers every repository of its installation ("all", what links meant before) or the
// listed ones. The list's foreign keys do the bookkeeping: a repository that leaves the
// installation leaves every scope, and unlinking drops the list.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("team_installations", (t) => t.string("repository_scope", 8).notNullable().defaultTo("all"));
  await knex.schema.createTable("team_installation_repositories", (t) => {
    t.integer("team_id").unsigned().notNullable();
    t.bigInteger("installation_id").notNullable();
    t.bigInteger("repository_id").notNullable();
    t.primary(["team_id", "installation_id", "repository_id"]);
    t.foreign(["team_id", "installation_id"]).references(["team_id", "installation_id"]).inTable("team_installations").onDelete("CASCADE");
    t.foreign(["installation_id", "repository_id"])
      .references(["installation_id", "repository_id"])
      .inTable("installation_repositories")
      .onDelete("CASCADE");
    // The cascade from installation_repositories looks rows up by repository.
    t.index(["installation_id", "repository_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("team_installation_repositories");
  await knex.schema.alterTable("team_installations", (t) => t.dropColumn("repository_scope"));
}
