import { createHash } from "node:crypto";
import type { Knex } from "knex";
import type { Client as PgClient } from "pg";
import { JsonStatement, withJson } from "./json-statements";
import { isPostgres } from "./knex";

/** Batches committed one after another, on a connection kept between them (see commitLane). */
export interface CommitLane {
  /**
   * Runs `writes` in one transaction and one round trip, if every `conditions` statement (a
   * `SELECT <boolean>`) holds when it starts; false, having written nothing, when one does not.
   * That is the webhook hot path: each round trip waits for the event loop, which under load is
   * busy with the next deliveries, so round trips, not statements, set the pace of a batch
   * (STACK.md pitfall 11).
   *
   * On Postgres the writes are one statement (data-modifying CTEs): they must not touch a row
   * another of them touches, as they run on one snapshot in no set order. An error rolls back all.
   */
  commit(conditions: JsonStatement[], writes: JsonStatement[]): Promise<boolean>;
  /** Gives the connection back to the pool, if one is held. */
  release(): Promise<void>;
  /** Gives it back only if someone is waiting for a connection of the pool. */
  yieldToWaiters(): Promise<void>;
}

/**
 * A connection taken from the pool at the first commit and kept for the next, until released:
 * under load, acquiring one for every batch cost a wait for the event loop each time (tarn
 * answers on a later turn), about a tenth of the batch. It is given back after an error, as the
 * connection may be broken, and whenever anyone else waits for one (SQLite's pool has one).
 */
export function commitLane(db: Knex): CommitLane {
  let held: unknown;
  const release = async () => {
    if (held === undefined) return;
    const connection = held;
    held = undefined;
    await db.client.releaseConnection(connection);
  };
  return {
    async commit(conditions, writes) {
      held ??= await db.client.acquireConnection();
      try {
        return isPostgres(db)
          ? await commitOnPostgres(held as PgClient, conditions, writes)
          : await commitOnSqlite(held as SqliteDatabase, conditions, writes);
      } catch (error) {
        await release();
        throw error;
      }
    },
    release,
    async yieldToWaiters() {
      if (db.client.pool?.numPendingAcquires() > 0) await release();
    },
  };
}

async function commitOnPostgres(client: PgClient, conditions: JsonStatement[], writes: JsonStatement[]): Promise<boolean> {
  // One parameter holds every statement's JSON; a write reads an empty list unless all holds.
  // A statement's bytes are a parameter of their own.
  const slot = (k: number) => `($1::jsonb->${k})`;
  const values: unknown[] = [JSON.stringify([...conditions, ...writes].map((s) => s.json))];
  const bytes = (s: JsonStatement) => (s.sql.includes("{blob}") ? `$${values.push(s.blob ?? Buffer.alloc(0))}::bytea` : undefined);
  const holds = conditions.map((c, k) => `(${withJson(c, slot(k), bytes(c))})`).join(" AND ") || "true";
  const guarded = writes.map(
    (w, k) => `w${k} AS (${withJson(w, `(CASE WHEN (SELECT ok FROM holds) THEN ${slot(conditions.length + k)} ELSE '[]'::jsonb END)`, bytes(w))})`,
  );
  const text = `WITH ${[`holds AS (SELECT ${holds} AS ok)`, ...guarded].join(",\n")}\nSELECT ok FROM holds`;
  // Named: Postgres parses and plans each distinct text once per connection.
  const result = await client.query({ name: statementName(text), text, values });
  return result.rows[0].ok === true;
}

// The texts are few (one per combination of a step's statements), the batches many.
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    if (statementNames.size >= 1000) statementNames.clear();
    statementNames.set(text, (name = `octoplex-${createHash("sha1").update(text).digest("hex").slice(0, 16)}`));
  }
  return name;
}

interface SqliteStatement {
  run(params: unknown[], callback: (error: Error | null) => void): void;
  finalize(callback: () => void): void;
}

interface SqliteDatabase {
  exec(sql: string, callback: (error: Error | null) => void): void;
  prepare(sql: string, callback: (error: Error | null) => void): SqliteStatement;
  close(callback: (error: Error | null) => void): void;
}

const CONDITION_FAILED = "octoplex: a condition of the batch does not hold";

// Per connection, the prepared statement of each program (see commitOnSqlite), by its text.
const sqlitePrograms = new WeakMap<SqliteDatabase, Map<string, Promise<SqliteStatement>>>();

/**
 * One statement that runs them all: an INSERT into a temporary view whose INSTEAD OF trigger
 * checks the conditions (RAISE aborts, rolling back everything) and runs the writes, each reading
 * its own JSON parameter (a column of the view). The trigger and the statement are compiled once per
 * connection; compiling a batch's half-dozen statements every time cost more than running them.
 * One statement is one transaction, and a writing statement takes the write lock when it starts.
 */
async function commitOnSqlite(connection: SqliteDatabase, conditions: JsonStatement[], writes: JsonStatement[]): Promise<boolean> {
  // A column per statement: a statement reads only its own JSON, where one document for the
  // batch was parsed again by each of them (`batch -> k`), payloads and all.
  const statements = [...conditions, ...writes];
  const body = statements.map((s, k) => {
    const sql = withJson(s, `NEW.s${k}`, `NEW.b${k}`);
    return k < conditions.length ? `SELECT RAISE(ABORT, '${CONDITION_FAILED}') WHERE NOT (${sql})` : sql;
  });
  const program = body.join(";\n");
  const columns = statements.flatMap((s, k) => (s.sql.includes("{blob}") ? [`s${k}`, `b${k}`] : [`s${k}`]));
  const parts = statements.flatMap((s) => (s.sql.includes("{blob}") ? [JSON.stringify(s.json), s.blob ?? Buffer.alloc(0)] : [JSON.stringify(s.json)]));
  const statement = await sqliteProgram(connection, program, columns);
  try {
    await new Promise<void>((resolve, reject) => statement.run(parts, (e) => (e ? reject(e) : resolve())));
    return true;
  } catch (error) {
    if ((error as Error).message.includes(CONDITION_FAILED)) return false;
    throw error;
  }
}

function sqliteProgram(connection: SqliteDatabase, program: string, names: string[]): Promise<SqliteStatement> {
  let programs = sqlitePrograms.get(connection);
  if (!programs) {
    sqlitePrograms.set(connection, (programs = new Map()));
    finalizeBeforeClose(connection, programs);
  }
  let statement = programs.get(program);
  if (!statement) {
    const name = `octoplex_batch_${createHash("sha1").update(program).digest("hex").slice(0, 16)}`;
    const columns = names.join(", ");
    const ddl =
      `CREATE TEMP VIEW IF NOT EXISTS ${name} (${columns}) AS SELECT ${names.map(() => "NULL").join(", ")};\n` +
      `CREATE TEMP TRIGGER IF NOT EXISTS ${name}_run INSTEAD OF INSERT ON ${name} BEGIN\n${program};\nEND`;
    statement = new Promise<void>((resolve, reject) => connection.exec(ddl, (e) => (e ? reject(e) : resolve()))).then(
      () =>
        new Promise<SqliteStatement>((resolve, reject) => {
          const prepared = connection.prepare(`INSERT INTO ${name} (${columns}) VALUES (${names.map(() => "?").join(", ")})`, (e) => (e ? reject(e) : resolve(prepared)));
        }),
    );
    // A failure is not kept: the next batch tries again.
    statement.catch(() => programs!.delete(program));
    programs.set(program, statement);
  }
  return statement;
}

/** SQLite refuses to close a connection with statements still prepared: the pool's close finalizes ours first. */
function finalizeBeforeClose(connection: SqliteDatabase, programs: Map<string, Promise<SqliteStatement>>): void {
  const close = connection.close.bind(connection);
  connection.close = (callback) => {
    const finalized = [...programs.values()].map((p) =>
      p.then((statement) => new Promise<void>((resolve) => statement.finalize(resolve))).catch(() => undefined),
    );
    programs.clear();
    void Promise.all(finalized).then(() => close(callback));
  };
}
