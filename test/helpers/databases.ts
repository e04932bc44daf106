import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { Client } from "pg";
import type { Config } from "../../src/config";
import { createKnex, isPostgres } from "../../src/db/knex";
import { migrateLatest } from "../../src/db/migrate";
import { ADMIN_POSTGRES_URL, POSTGRES_AVAILABLE_ENV } from "./postgres-url";

export type DatabaseKind = "sqlite" | "postgres";

export interface TestDatabase {
  kind: DatabaseKind;
  config: Config["database"];
  drop(): Promise<void>;
}

/** A database of its own for each test file: CI shares the Postgres server with whatever ran before. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const suffix = randomBytes(6).toString("hex");
  if (kind === "sqlite") {
    const filename = join(tmpdir(), `octoplex-test-${suffix}.sqlite`);
    return {
      kind,
      config: { client: "sqlite", filename },
      async drop() {
        for (const ext of ["", "-wal", "-shm"]) rmSync(`${filename}${ext}`, { force: true });
      },
    };
  }
  const name = `octoplex_test_${suffix}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    kind,
    config: { client: "postgres", url: url.toString() },
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function databaseKinds(): DatabaseKind[] {
  return process.env[POSTGRES_AVAILABLE_ENV] === "0" ? ["sqlite"] : ["sqlite", "postgres"];
}

// Every table of the schema, children first, so foreign keys never object.
export const TABLES = [
  "outbox_events",
  "github_event_payloads",
  "team_subscriptions",
  "job_state",
  "installation_token_leases",
  "installation_tokens",
  "oauth_states",
  "rate_limits",
  "audit_events",
  "marketplace_plans",
  "webhook_deliveries",
  "api_key_teams",
  "api_keys",
  "sessions",
  "user_tokens",
  "team_installation_repositories",
  "team_installations",
  "team_members",
  "github_users",
  "teams",
  "installation_repositories",
  "repository_tombstones",
  "installation_tombstones",
  "installations",
];

export async function indexNames(db: Knex, table: string): Promise<string[]> {
  if (isPostgres(db)) return (await db.raw("SELECT indexname FROM pg_indexes WHERE tablename = ?", [table])).rows.map((r: { indexname: string }) => r.indexname);
  return (await db.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table])).map((r: { name: string }) => r.name);
}

export async function truncateAll(db: Knex): Promise<void> {
  for (const table of TABLES) await db(table).delete();
}

/**
 * Runs a describe block once per database: SQLite always, Postgres when the global setup found
 * it. Each run gets a fresh, migrated database; tables are emptied before every test.
 */
export function describeEachDatabase(title: string, body: (ctx: { db: () => Knex; database: () => TestDatabase; kind: DatabaseKind }) => void): void {
  describe.each(databaseKinds())(`${title} on %s`, (kind) => {
    let database: TestDatabase;
    let db: Knex;
    beforeAll(async () => {
      database = await createTestDatabase(kind);
      db = createKnex(database.config);
      await migrateLatest(db);
    });
    beforeEach(() => truncateAll(db));
    afterAll(async () => {
      await db?.destroy();
      await database?.drop();
    });
    body({ db: () => db, database: () => database, kind });
  });
}

/**
 * `test` on Postgres; on any other database a skipped test whose name says why, so a skip in the
 * report is never a mystery.
 */
export function postgresOnly(kind: DatabaseKind, reason: string) {
  return (name: string, fn: jest.ProvidesCallback, timeout?: number) =>
    kind === "postgres" ? test(name, fn, timeout) : test.skip(`${name} [not on ${kind}: ${reason}]`, fn, timeout);
}
