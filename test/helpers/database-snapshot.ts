import type { Knex } from "knex";
import { TABLES } from "./databases";

/** Every row of every table, as sorted JSON lines per table: equal snapshots mean nothing was written. */
export type DatabaseSnapshot = Record<string, string[]>;

export async function snapshotDatabase(db: Knex, options: { except?: string[] } = {}): Promise<DatabaseSnapshot> {
  const snapshot: DatabaseSnapshot = {};
  for (const table of TABLES) {
    if (options.except?.includes(table)) continue;
    const rows = await db(table).select("*");
    snapshot[table] = rows.map((row) => JSON.stringify(row, (_key, value) => (typeof value === "bigint" ? String(value) : value))).sort();
  }
  return snapshot;
}

/** The tables that hold rows, with their row counts: a readable summary for "nothing was stored". */
export function nonEmptyTables(snapshot: DatabaseSnapshot): Record<string, number> {
  return Object.fromEntries(Object.entries(snapshot).filter(([, rows]) => rows.length > 0).map(([table, rows]) => [table, rows.length]));
}
