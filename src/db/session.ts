import type { Knex } from "knex";
import type { Client as PgClient } from "pg";
import { Db, Dialect, isPostgres } from "./knex";

/**
 * A statement whose input is one JSON document, read in SQL through `:json` (json_each on SQLite,
 * jsonb_to_recordset on Postgres): a fixed text for any number of rows.
 */
export interface JsonStatement {
  sql: string;
  json: unknown;
}

/** Postgres type of a column read from JSON; SQLite takes JSON's own types. */
export type JsonColumnType = "bigint" | "text" | "boolean" | "timestamptz";

/**
 * `SELECT <columns> FROM` the rows of the statement's JSON (an array of objects keyed by column),
 * to insert or match in one statement whatever their number.
 */
export function selectJsonRows(dialect: Dialect, columns: ReadonlyArray<readonly [string, JsonColumnType]>): string {
  if (dialect === "postgres") {
    const names = columns.map(([c]) => c).join(", ");
    return `SELECT ${names} FROM jsonb_to_recordset(:json::jsonb) AS r(${columns.map(([c, type]) => `${c} ${type}`).join(", ")})`;
  }
  // WHERE true: SQLite reads an ON CONFLICT that follows a bare FROM as a join constraint.
  return `SELECT ${columns.map(([c]) => `value->>'${c}'`).join(", ")} FROM json_each(:json) WHERE true`;
}

/** Runs a JSON statement through knex (in its transaction, when `db` is one): its rows. */
export async function runStatement(db: Db, statement: JsonStatement): Promise<Array<Record<string, unknown>>> {
  const result = await db.raw(statement.sql.replace(":json", "?"), [JSON.stringify(statement.json)]);
  return isPostgres(db) ? result.rows : result;
}

/**
 * A write transaction on one raw connection, in as few round trips as the driver allows: what the
 * webhook hot path needs. Each round trip waits for the event loop, which under load is busy with
 * the next deliveries, so round trips, not statements, set the pace of a batch (STACK.md pitfall 11).
 */
export interface WriteSession {
  /** Begins the transaction and runs `first` in it: its rows. */
  begin(first: JsonStatement): Promise<Array<Record<string, unknown>>>;
  /** Runs the statements and commits, in one round trip. */
  commit(statements: JsonStatement[]): Promise<void>;
  /** Ends a transaction that failed; safe to call when none is open. */
  rollback(): Promise<void>;
}

/**
 * Runs `work` on a connection of knex's pool, held until it returns, outside knex's query
 * builder. A transaction `work` leaves open is rolled back.
 */
export async function withWriteSession<T>(db: Knex, work: (session: WriteSession) => Promise<T>): Promise<T> {
  const connection = await db.client.acquireConnection();
  const session = isPostgres(db) ? postgresSession(connection as PgClient) : sqliteSession(connection as SqliteDatabase);
  try {
    return await work(session);
  } finally {
    await session.rollback().catch(() => undefined);
    await db.client.releaseConnection(connection);
  }
}

interface SqliteDatabase {
  exec(sql: string, callback: (error: Error | null) => void): void;
  all(sql: string, params: unknown[], callback: (error: Error | null, rows: Array<Record<string, unknown>>) => void): void;
}

function sqliteSession(connection: SqliteDatabase): WriteSession {
  const exec = (sql: string) => new Promise<void>((resolve, reject) => connection.exec(sql, (e) => (e ? reject(e) : resolve())));
  let open = false;
  return {
    async begin(first) {
      // IMMEDIATE: take the write lock now, so another process (the CLI) cannot slip a write
      // between this read and the commit.
      await exec("BEGIN IMMEDIATE");
      open = true;
      return new Promise((resolve, reject) =>
        connection.all(first.sql.replace(":json", "?"), [JSON.stringify(first.json)], (e, rows) => (e ? reject(e) : resolve(rows))),
      );
    },
    async commit(statements) {
      // node-sqlite3 binds parameters to one statement only; exec runs many, so the JSON goes in
      // as a literal. SQLite has no escapes in string literals: doubling the quote is all there is.
      await exec([...statements.map((s) => s.sql.replace(":json", sqliteLiteral(JSON.stringify(s.json)))), "COMMIT"].join(";\n"));
      open = false;
    },
    async rollback() {
      if (!open) return;
      open = false;
      await exec("ROLLBACK");
    },
  };
}

function sqliteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function postgresSession(client: PgClient): WriteSession {
  // A simple query may hold many statements but no parameters: the JSON goes in as a literal,
  // quoted by pg's escapeLiteral (an E'' string when it holds a backslash, whatever
  // standard_conforming_strings says).
  const inline = (s: JsonStatement) => s.sql.replace(":json", client.escapeLiteral(JSON.stringify(s.json)));
  const run = async (sql: string) => {
    const results = (await client.query(sql)) as unknown;
    return Array.isArray(results) ? results : [results];
  };
  let open = false;
  return {
    async begin(first) {
      open = true;
      const results = await run(`BEGIN;\n${inline(first)}`);
      return results[results.length - 1].rows;
    },
    async commit(statements) {
      await run([...statements.map(inline), "COMMIT"].join(";\n"));
      open = false;
    },
    async rollback() {
      if (!open) return;
      open = false;
      await client.query("ROLLBACK");
    },
  };
}
