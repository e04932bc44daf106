import type { Knex } from "knex";

// Every repository an installation reaches, with what GitHub says of it. Installation webhooks
// name only id, name, full name and private: archived and default_branch stay null until a
// `repository` event or a reconcile says. The primary key stays (installation_id, repository_id):
// link scopes reference it, and rows are updated in place so that those scopes survive.
// A deleted repository's id is tombstoned so that a late delivery cannot bring it back; GitHub
// never reuses repository ids.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("installation_repositories", (t) => {
    t.string("owner");
    t.string("name");
    t.boolean("archived");
    t.string("default_branch");
    t.index(["repository_id"]);
  });
  await knex.schema.createTable("repository_tombstones", (t) => {
    t.bigInteger("repository_id").primary();
    t.timestamp("deleted_at", { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("repository_tombstones");
  await knex.schema.alterTable("installation_repositories", (t) => {
    t.dropIndex(["repository_id"]);
    t.dropColumn("default_branch");
    t.dropColumn("archived");
    t.dropColumn("name");
    t.dropColumn("owner");
  });
}
