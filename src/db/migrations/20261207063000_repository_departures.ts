import type { Knex } from "knex";

// A repository transferred out of an installation's account still exists (under its new owner,
// perhaps in another installation of the app), so it gets no global tombstone: it is remembered
// as departed from that one installation, and a late event for the old account cannot bring it
// back there. Transferred back (or listed by GitHub on a reconcile), the departure is cleared.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("repository_departures", (t) => {
    t.bigInteger("installation_id").notNullable();
    t.bigInteger("repository_id").notNullable();
    t.timestamp("departed_at", { useTz: true }).notNullable();
    t.primary(["installation_id", "repository_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("repository_departures");
}
