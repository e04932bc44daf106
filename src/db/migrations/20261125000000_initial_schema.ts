import type { Knex } from "knex";

// GitHub ids (installations, accounts, users, repositories) exceed 2^31: bigInteger everywhere.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("installations", (t) => {
    t.bigInteger("id").primary();
    t.bigInteger("account_id").notNullable();
    t.string("account_login").notNullable();
    t.string("account_type").notNullable();
    t.string("account_avatar_url");
    t.string("target_type").notNullable();
    t.string("repository_selection").notNullable();
    t.text("permissions").notNullable();
    t.text("events").notNullable();
    t.timestamp("suspended_at", { useTz: true });
    t.string("suspended_by");
    t.timestamp("github_updated_at", { useTz: true });
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.index(["account_id"]);
    t.index(["account_login"]);
  });

  // A delete that arrives before its create (or a late create after a delete) must not bring the
  // installation back; GitHub never reuses installation ids, so a tombstone is forever.
  await knex.schema.createTable("installation_tombstones", (t) => {
    t.bigInteger("installation_id").primary();
    t.timestamp("deleted_at", { useTz: true }).notNullable();
  });

  await knex.schema.createTable("installation_repositories", (t) => {
    t.bigInteger("installation_id").notNullable().references("installations.id").onDelete("CASCADE");
    t.bigInteger("repository_id").notNullable();
    t.string("full_name").notNullable();
    t.boolean("private").notNullable();
    t.primary(["installation_id", "repository_id"]);
    t.index(["full_name"]);
  });

  await knex.schema.createTable("teams", (t) => {
    t.increments("id").primary();
    t.string("name").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
  });

  await knex.schema.createTable("github_users", (t) => {
    t.bigInteger("id").primary();
    t.string("login").notNullable();
    t.string("name");
    t.string("avatar_url");
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.index(["login"]);
  });

  await knex.schema.createTable("team_members", (t) => {
    t.integer("team_id").unsigned().notNullable().references("teams.id").onDelete("CASCADE");
    t.bigInteger("github_user_id").notNullable();
    t.string("role").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.primary(["team_id", "github_user_id"]);
    t.index(["github_user_id"]);
  });

  // The many-to-many link. The primary key makes "link twice" one row; the installation index
  // serves "which teams use this installation" (uninstall, suspension).
  await knex.schema.createTable("team_installations", (t) => {
    t.integer("team_id").unsigned().notNullable().references("teams.id").onDelete("CASCADE");
    t.bigInteger("installation_id").notNullable().references("installations.id").onDelete("CASCADE");
    t.bigInteger("linked_by").nullable();
    t.timestamp("linked_at", { useTz: true }).notNullable();
    t.primary(["team_id", "installation_id"]);
    t.index(["installation_id"]);
  });

  await knex.schema.createTable("user_tokens", (t) => {
    t.bigInteger("github_user_id").primary().references("github_users.id").onDelete("CASCADE");
    t.string("key_id").notNullable();
    t.text("access_token_encrypted").notNullable();
    t.timestamp("access_token_expires_at", { useTz: true });
    t.text("refresh_token_encrypted");
    t.timestamp("refresh_token_expires_at", { useTz: true });
    // Compare-and-swap guard: a refresh writes only if the version it read is still current.
    t.integer("version").notNullable().defaultTo(0);
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.index(["key_id"]);
  });

  await knex.schema.createTable("sessions", (t) => {
    t.string("id_hash", 64).primary();
    t.bigInteger("github_user_id").notNullable().references("github_users.id").onDelete("CASCADE");
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.timestamp("revoked_at", { useTz: true });
    t.index(["github_user_id"]);
    t.index(["expires_at"]);
  });

  await knex.schema.createTable("api_keys", (t) => {
    t.increments("id").primary();
    t.string("name").notNullable();
    t.string("key_hash", 64).notNullable().unique();
    t.string("prefix").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.timestamp("last_used_at", { useTz: true });
    t.timestamp("revoked_at", { useTz: true });
  });

  await knex.schema.createTable("webhook_deliveries", (t) => {
    t.string("id").primary();
    t.string("event").notNullable();
    t.string("action");
    t.bigInteger("installation_id");
    t.timestamp("processed_at", { useTz: true }).notNullable();
    t.index(["processed_at"]);
  });

  await knex.schema.createTable("marketplace_plans", (t) => {
    t.bigInteger("account_id").primary();
    t.string("account_login").notNullable();
    t.string("account_type").notNullable();
    t.bigInteger("plan_id").notNullable();
    t.string("plan_name").notNullable();
    t.string("billing_cycle");
    t.integer("unit_count");
    t.boolean("on_free_trial").notNullable().defaultTo(false);
    t.timestamp("free_trial_ends_on", { useTz: true });
    t.timestamp("next_billing_date", { useTz: true });
    t.bigInteger("pending_plan_id");
    t.string("pending_plan_name");
    t.string("pending_billing_cycle");
    t.integer("pending_unit_count");
    t.timestamp("pending_effective_date", { useTz: true });
    t.timestamp("cancelled_at", { useTz: true });
    t.string("last_action").notNullable();
    t.timestamp("updated_at", { useTz: true }).notNullable();
    t.index(["account_login"]);
  });

  // Teams come and go; their history stays, so no foreign key to teams here.
  await knex.schema.createTable("audit_events", (t) => {
    t.increments("id").primary();
    t.integer("team_id");
    t.bigInteger("installation_id");
    t.string("actor_type").notNullable();
    t.bigInteger("actor_id");
    t.string("action").notNullable();
    t.text("data").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable();
    t.index(["team_id", "id"]);
    t.index(["installation_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "audit_events",
    "marketplace_plans",
    "webhook_deliveries",
    "api_keys",
    "sessions",
    "user_tokens",
    "team_installations",
    "team_members",
    "github_users",
    "teams",
    "installation_repositories",
    "installation_tombstones",
    "installations",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
