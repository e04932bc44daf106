import { migrationSource } from "../../../src/db/migrations";
import { migrateLatest, migrateRollback } from "../../../src/db/migrate";
import { listTeams } from "../../../src/repositories/teams";
import { createCliTarget, CliTarget } from "../../helpers/cli";
import { databaseKinds, TABLES } from "../../helpers/databases";
import { seedTeams } from "../../helpers/factories";

// Every migration, oldest first, as the app lists them.
const ALL = [
  "20261125000000_initial_schema",
  "20261125010000_sign_in",
  "20261125020000_installation_tokens",
  "20261125030000_outbox",
  "20261202000000_outbox_pending_indexes",
  "20261202010000_audit_events_by_team_only",
  "20261202020000_outbox_pending_by_id",
  "20261207010000_rate_limits",
  "20261207020000_api_key_teams",
  "20261207040000_repository_details",
  "20261207050000_link_scopes",
  "20261207063000_repository_departures",
  "20261207070000_team_events",
  "20261207080000_outbox_pending_by_id_dropped",
  "20261207090000_audit_events_routed_by_created_at",
  "20261207100000_event_tables_postgres_upkeep",
  "20261207110000_routed_events_by_created_at",
];

describe.each(databaseKinds())("octoplex migrate on %s", (kind) => {
  // Each test starts from a database no migration has touched.
  let target: CliTarget;
  const db = () => target.db;

  beforeEach(async () => {
    target = await createCliTarget(kind);
  });
  afterEach(() => target?.close());

  async function existingTables(): Promise<string[]> {
    const found: string[] = [];
    for (const table of TABLES) if (await db().schema.hasTable(table)) found.push(table);
    return found.sort();
  }

  const appliedMigrations = async () =>
    (await db()("knex_migrations").orderBy("id").select("name", "batch", "migration_time")).map((r) => ({
      ...r,
      batch: Number(r.batch),
      migration_time: String(r.migration_time),
    }));

  test("applies every migration to an empty database and prints its name", async () => {
    const run = await target.run(["migrate"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([`Applied ${ALL.length} migration(s): ${ALL.join(", ")}`]);
    expect(await existingTables()).toEqual([...TABLES].sort());
    expect((await appliedMigrations()).map((m) => m.name)).toEqual(ALL);
  });

  test("a second migrate prints \"Already up to date\" and changes nothing", async () => {
    await target.run(["migrate"]);
    const teams = await seedTeams(db(), 2);
    const migrationsBefore = await appliedMigrations();

    const run = await target.run(["migrate"]);

    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual(["Already up to date: no migration to apply"]);
    expect(await appliedMigrations()).toEqual(migrationsBefore);
    expect(await listTeams(db())).toEqual(teams);
  });

  test("rolling back every migration drops every table, and migrating again recreates them", async () => {
    await target.run(["migrate"]);

    expect(await migrateRollback(db(), true)).toEqual({ applied: [...ALL].reverse() });
    expect(await existingTables()).toEqual([]);
    expect(await appliedMigrations()).toEqual([]);

    expect(await migrateLatest(db())).toEqual({ applied: ALL });
    expect(await existingTables()).toEqual([...TABLES].sort());

    // The CLI agrees that the schema is current again.
    expect((await target.run(["migrate"])).out).toEqual(["Already up to date: no migration to apply"]);
  });
});

test("the migration list in this test is the app's", async () => {
  expect(await migrationSource.getMigrations([])).toEqual(ALL);
});
