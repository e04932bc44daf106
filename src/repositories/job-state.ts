import type { Db } from "../db/knex";
import { dbTime, parseJson } from "./rows";

export async function readJobState<T>(db: Db, name: string, fallback: T): Promise<T> {
  const row = await db("job_state").where({ name }).first("value");
  return row ? parseJson<T>(row.value, fallback) : fallback;
}

export async function writeJobState(db: Db, name: string, value: unknown, now: Date): Promise<void> {
  await db("job_state")
    .insert({ name, value: JSON.stringify(value), updated_at: dbTime(now) })
    .onConflict("name")
    .merge(["value", "updated_at"]);
}
