import type { Knex } from "knex";
import { isPostgres } from "../../src/db/knex";

/**
 * The plan of the query `run` makes first. `withoutSeqScan`: sequential scans ruled out where the
 * database allows it (a test table is too small for an index to win on cost); `analyze`: Postgres
 * runs it and counts the rows each step looked at.
 */
export async function explain(
  db: Knex,
  run: (trx: Knex.Transaction) => Promise<unknown>,
  { withoutSeqScan = false, analyze = false } = {},
): Promise<string> {
  return db.transaction(async (trx) => {
    let captured: { sql: string; bindings: readonly unknown[] } | undefined;
    trx.on("query", (q: { sql: string; bindings: readonly unknown[] }) => void (captured ??= q));
    await run(trx);
    if (isPostgres(db)) {
      if (withoutSeqScan) await trx.raw("SET LOCAL enable_seqscan = off");
      const sql = `EXPLAIN${analyze ? " (ANALYZE)" : ""} ${captured!.sql.replace(/\$\d+/g, "?")}`;
      const rows = (await trx.raw(sql, captured!.bindings as Knex.RawBinding[])).rows as Array<{ "QUERY PLAN": string }>;
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    }
    const rows = (await trx.raw(`EXPLAIN QUERY PLAN ${captured!.sql}`, captured!.bindings as Knex.RawBinding[])) as Array<{ detail: string }>;
    return rows.map((r) => r.detail).join("\n");
  });
}
