import type { Knex } from "knex";
import { TABLES } from "./databases";

/** Every (table, column) whose value contains one of `secrets`, over every row of every table. */
export async function findSecretsInDatabase(db: Knex, secrets: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of TABLES) {
    for (const row of await db(table).select("*")) {
      for (const [column, value] of Object.entries(row)) {
        const text = value instanceof Date ? value.toISOString() : String(value);
        for (const secret of secrets) if (secret && text.includes(secret)) found.push(`${table}.${column}`);
      }
    }
  }
  return found;
}
