import { migrateLatest, migrateRollback } from "../../../src/db/migrate";
import { listTeams } from "../../../src/repositories/teams";
import { createCliTarget, CliTarget } from "../../helpers/cli";
import { databaseKinds, TABLES } from "../../helpers/databases";
import { seedTeams } from "../../helpers/factories";

const INITIAL = "20261125000000_initial_schema";

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

  test("applies the initial migration to an empty database and prints its name", async () => {
    const run = await target.run(["migrate"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([`Applied 1 migration(s): ${INITIAL}`]);
    expect(await existingTables()).toEqual([...TABLES].sort());
    expect((await appliedMigrations()).map((m) => m.name)).toEqual([INITIAL]);
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

    expect(await migrateRollback(db(), true)).toEqual({ applied: [INITIAL] });
    expect(await existingTables()).toEqual([]);
    expect(await appliedMigrations()).toEqual([]);

    expect(await migrateLatest(db())).toEqual({ applied: [INITIAL] });
    expect(await existingTables()).toEqual([...TABLES].sort());

    // The CLI agrees that the schema is current again.
    expect((await target.run(["migrate"])).out).toEqual(["Already up to date: no migration to apply"]);
  });
});
