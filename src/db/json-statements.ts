import { Db, Dialect, isPostgres } from "./knex";

/**
 * A statement whose input is one JSON document, read in SQL through `{json}` (json_each on SQLite,
 * jsonb_to_recordset on Postgres): a fixed text for any number of rows.
 */
export interface JsonStatement {
  sql: string;
  json: unknown;
  /**
   * Bytes the statement reads through `{blob}` (by offsets its JSON rows carry). Large texts
   * travel so rather than inside the JSON, which the database would parse and unescape: SQLite
   * at a fraction of the speed it copies bytes.
   */
  blob?: Buffer;
}

/** The statement's SQL with `sql` wherever it reads its JSON, and `blob` wherever it reads its bytes. */
export function withJson(statement: JsonStatement, sql: string, blob?: string): string {
  return statement.sql.replace(/\{(json|blob)\}/g, (_, part: string) => {
    if (part === "json") return sql;
    if (blob === undefined) throw new Error("this statement reads bytes ({blob}), which its runner does not pass");
    return blob;
  });
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
    return `SELECT ${names} FROM jsonb_to_recordset({json}::jsonb) AS r(${columns.map(([c, type]) => `${c} ${type}`).join(", ")})`;
  }
  // WHERE true: SQLite reads an ON CONFLICT that follows a bare FROM as a join constraint.
  // Named as the columns, so that the rows can be read as a subquery too.
  return `SELECT ${columns.map(([c]) => `value->>'${c}' AS ${c}`).join(", ")} FROM json_each({json}) WHERE true`;
}

/**
 * The same rows as a subquery to join: SQLite otherwise flattens it into the join and reads each
 * column out of its JSON again for every row the join makes (ten teams: ten times). LIMIT keeps
 * it whole, so each row's columns are read once.
 */
export function jsonRowsToJoin(dialect: Dialect, columns: ReadonlyArray<readonly [string, JsonColumnType]>): string {
  return dialect === "postgres" ? selectJsonRows(dialect, columns) : `${selectJsonRows(dialect, columns)} LIMIT -1`;
}

/**
 * `<column> IN` that column of the JSON rows, in a form that looks the rows up by an index on
 * it. On Postgres, `IN (SELECT … FROM jsonb_to_recordset(…))` is planned as a hash join over a
 * sequential scan whenever the table's statistics lag behind its growth; `= ANY (ARRAY(…))` is
 * an index condition.
 */
export function jsonColumnIn(dialect: Dialect, column: string, type: JsonColumnType): string {
  if (dialect === "postgres") return `${column} = ANY (ARRAY(SELECT ${column} FROM jsonb_to_recordset({json}::jsonb) AS r(${column} ${type})))`;
  return `${column} IN (SELECT value->>'${column}' FROM json_each({json}))`;
}

/**
 * `SELECT NOT EXISTS` a row of `table` whose `column` is in the JSON rows: a condition for
 * a commit lane (db/commit-if-holds.ts). On Postgres each JSON row is looked up on its own (LATERAL … LIMIT 1), so the
 * lookup takes the index whatever the statistics say; webhook_deliveries, always growing, is
 * otherwise scanned whole.
 */
export function noneInTable(dialect: Dialect, table: string, column: string, type: JsonColumnType): string {
  if (dialect === "postgres") {
    return (
      `SELECT NOT EXISTS (SELECT 1 FROM jsonb_to_recordset({json}::jsonb) AS r(${column} ${type}) ` +
      `CROSS JOIN LATERAL (SELECT 1 FROM ${table} t WHERE t.${column} = r.${column} LIMIT 1) hit)`
    );
  }
  return `SELECT NOT EXISTS (SELECT 1 FROM ${table} WHERE ${jsonColumnIn(dialect, column, type)})`;
}

/** Runs a JSON statement through knex (in its transaction, when `db` is one): its rows. */
export async function runStatement(db: Db, statement: JsonStatement): Promise<Array<Record<string, unknown>>> {
  const json = JSON.stringify(statement.json);
  const bindings = [...statement.sql.matchAll(/\{(json|blob)\}/g)].map((m) => (m[1] === "json" ? json : (statement.blob ?? Buffer.alloc(0))));
  const result = await db.raw(withJson(statement, "?", "?"), bindings);
  return isPostgres(db) ? result.rows : result;
}
