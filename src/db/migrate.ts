import type { Knex } from "knex";
import { withoutQueryTimeout } from "./knex";

export interface MigrationResult {
  applied: string[];
}

/** Applies every pending migration; returns their names (empty when the schema is current). */
export async function migrateLatest(db: Knex): Promise<MigrationResult> {
  const [, applied] = (await withoutQueryTimeout(db, (m) => m.migrate.latest())) as [number, string[]];
  return { applied };
}

export async function migrateRollback(db: Knex, all = false): Promise<MigrationResult> {
  const [, applied] = (await withoutQueryTimeout(db, (m) => m.migrate.rollback(undefined, all))) as [number, string[]];
  return { applied };
}
