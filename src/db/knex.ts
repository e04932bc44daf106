import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import knex, { Knex } from "knex";
import type { Config } from "../config";
import { migrationSource } from "./migrations";

export type Db = Knex | Knex.Transaction;

export interface KnexOptions {
  /** Upper bound of the Postgres pool; Lambda wants 1 or 2, a long-running server more. */
  poolMax?: number;
}

/** SQLite file by default (embedded, zero setup), Postgres when DATABASE_URL is set. */
export function createKnex(database: Config["database"], options: KnexOptions = {}): Knex {
  if (database.client === "postgres") {
    return knex({
      client: "pg",
      connection: database.url,
      pool: { min: 0, max: options.poolMax ?? 10 },
      migrations: { migrationSource },
      // knex otherwise writes the values into the SQL of an error's message (hashes, ciphertexts), and so into logs.
      compileSqlOnError: false,
    });
  }
  if (database.filename !== ":memory:") mkdirSync(dirname(database.filename), { recursive: true });
  return knex({
    client: "sqlite3",
    connection: { filename: database.filename },
    useNullAsDefault: true,
    // One connection per process: SQLite has one writer anyway, and a single connection makes
    // knex queue work instead of failing with SQLITE_BUSY inside the process.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
        conn.serialize(() => {
          conn.run("PRAGMA journal_mode = WAL");
          conn.run("PRAGMA synchronous = NORMAL");
          conn.run("PRAGMA foreign_keys = ON");
          // Other processes (the CLI next to a running server) wait for the write lock instead of
          // failing; longer than an OAuth refresh may hold it (10 s timeout in github/oauth.ts).
          conn.run("PRAGMA busy_timeout = 15000", (err: Error | null) => done(err, conn));
        });
      },
    },
    migrations: { migrationSource },
    compileSqlOnError: false,
  });
}

interface SqliteConnection {
  serialize(fn: () => void): void;
  run(sql: string, cb?: (err: Error | null) => void): void;
}

export function isPostgres(db: Db): boolean {
  return db.client.config.client === "pg";
}

/** Which SQL a hand-written statement must speak (see db/json-statements.ts). */
export type Dialect = "sqlite" | "postgres";

export function dialectOf(db: Db): Dialect {
  return isPostgres(db) ? "postgres" : "sqlite";
}

/** Unique-constraint violations on either database, so callers can treat "already there" as data. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; errno?: number; message?: string };
  return e?.code === "23505" || (e?.code === "SQLITE_CONSTRAINT" && /UNIQUE|PRIMARY KEY/.test(e.message ?? ""));
}
