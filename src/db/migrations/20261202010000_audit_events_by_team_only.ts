import type { Knex } from "knex";

// The audit trail is read by team (GET /api/teams/:teamId/audit, on its (team_id, id) index).
// Nothing reads it by installation but tests and an operator's ad-hoc query, and the index by
// installation cost a fifth of writing the 10,000 audit events of deleting a big installation.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("audit_events", (t) => t.dropIndex(["installation_id"]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("audit_events", (t) => t.index(["installation_id"]));
}
