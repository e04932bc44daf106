import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import knex, { Knex } from "knex";
import type { Client as PgClient } from "pg";
import type { Config } from "../config";
import { migrationSource } from "./migrations";

export type Db = Knex | Knex.Transaction;

export interface KnexOptions {
  /** Upper bound of the Postgres pool; Lambda wants 1 or 2, a long-running server more. */
  poolMax?: number;
  /** false: a query may take as long as it takes (migrations); connecting is still timed. */
  queryTimeout?: boolean;
  /**
   * Where knex's own warnings go (a dropped connection, a pool that could not connect). Unset, knex
   * prints them with console.log, outside the app's log format and level.
   */
  log?: Knex.Config["log"];
}

/**
 * Postgres's default `timeoutMs`. Longer than any wait Octoplex itself causes: a refresh holds its
 * user's token row while GitHub answers (10 s at most, github/oauth.ts), and the others wait for it.
 */
export const DEFAULT_DATABASE_TIMEOUT_MS = 15_000;

/** SQLite file by default (embedded, zero setup), Postgres when DATABASE_URL is set. */
export function createKnex(database: Config["database"], options: KnexOptions = {}): Knex {
  if (database.client === "postgres") {
    const timeoutMs = database.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
    const db = knex({
      client: "pg",
      // A server that stops answering (frozen, or gone behind a network partition) leaves a TCP
      // connection open and silent: without timeouts every request would wait for it forever.
      connection: { connectionString: database.url, connectionTimeoutMillis: timeoutMs },
      acquireConnectionTimeout: timeoutMs,
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        afterCreate(connection: PgClient, done: (error: Error | null, connection: PgClient) => void) {
          if (options.queryTimeout !== false) closeWhenUnanswered(connection, timeoutMs);
          done(null, connection);
        },
      },
      migrations: { migrationSource },
      // knex otherwise writes the values into the SQL of an error's message (hashes, ciphertexts), and so into logs.
      compileSqlOnError: false,
      log: options.log,
    });
    if (options.queryTimeout !== false) untimed.set(db, () => createKnex(database, { poolMax: 1, queryTimeout: false, log: options.log }));
    return db;
  }
  // ":memory:", "" (a temporary database) and URI filenames are no file of ours to prepare.
  if (database.filename !== ":memory:" && database.filename !== "" && !database.filename.startsWith("file:")) keepPrivate(database.filename);
  return knex({
    client: "sqlite3",
    connection: { filename: database.filename },
    useNullAsDefault: true,
    log: options.log,
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
          // A checkpoint every 10,000 pages (40 MB of WAL) instead of 1,000: a page written by
          // many commits in between is copied to the database once, and the webhook burst that
          // fans out to many teams spent half its time copying (bench:fanout, bench/results.md).
          conn.run("PRAGMA wal_autocheckpoint = 10000");
          // 32 MB of page cache rather than 2: the indexes a webhook burst writes to stay in
          // memory (server CPU per delivery 381–451 µs → 340–357 µs, bench:fanout ingestion);
          // taken only as pages are read, so a small database or a CLI run costs no more.
          conn.run("PRAGMA cache_size = -32768");
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

/**
 * The SQLite file holds encrypted tokens, session hashes and the audit trail: only the account
 * running Octoplex may read it. Directories made here are 0700 (one the operator made keeps its
 * mode); the file is made 0600 before SQLite opens it, because SQLite gives its -wal and -shm the
 * main file's mode, and a file left world-readable by an earlier version is narrowed to its owner.
 */
function keepPrivate(filename: string): void {
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  closeSync(openSync(filename, "a", 0o600));
  for (const path of [filename, `${filename}-wal`, `${filename}-shm`]) {
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    try {
      if (mode & 0o077) chmodSync(path, mode & 0o700);
    } catch {
      // Not ours to change (another owner): SQLite opens it as it is.
    }
  }
}

/** For each Postgres knex made here, how to make one like it without the query timeout. */
const untimed = new WeakMap<Knex, () => Knex>();

/**
 * Runs `work` on a knex without the query timeout (for migrations: building an index on a large
 * table may take minutes); on `db` itself when it has none (SQLite, or another process's knex).
 */
export async function withoutQueryTimeout<T>(db: Knex, work: (db: Knex) => Promise<T>): Promise<T> {
  const make = untimed.get(db);
  if (!make) return work(db);
  const other = make();
  try {
    return await work(other);
  } finally {
    await other.destroy();
  }
}

/**
 * A query without an answer after `timeoutMs` closes its connection: pg's own query_timeout
 * leaves the query running on it, and every later query of the pool that gets that connection
 * would wait behind it. Closed, the query (and any queued behind it) fails as a dropped
 * connection does, the pool discards it, and on a server that comes back an unfinished
 * transaction is rolled back.
 */
function closeWhenUnanswered(connection: PgClient, timeoutMs: number): void {
  const query = connection.query as (...args: unknown[]) => unknown;
  const close = () => {
    const error = Object.assign(new Error(`Postgres did not answer within ${timeoutMs} ms; the connection was closed`), { code: "ETIMEDOUT" });
    (connection as unknown as { connection: { stream: { destroy(error: Error): void } } }).connection.stream.destroy(error);
  };
  connection.query = ((...args: unknown[]) => {
    // Streams and cursors (Submittables) manage their own reads.
    if (typeof (args[0] as { submit?: unknown } | undefined)?.submit === "function") return query.apply(connection, args);
    const timer = setTimeout(close, timeoutMs);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === "function") {
      args[last] = (...results: unknown[]) => {
        clearTimeout(timer);
        (callback as (...r: unknown[]) => void)(...results);
      };
      return query.apply(connection, args);
    }
    return (query.apply(connection, args) as Promise<unknown>).finally(() => clearTimeout(timer));
  }) as PgClient["query"];
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
