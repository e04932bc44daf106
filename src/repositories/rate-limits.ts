import type { Db } from "../db/knex";
import { dbTime, toNumber } from "./rows";

/**
 * Counts one hit in the bucket's window and returns the window's count, this hit included. One
 * statement (insert, or add one on conflict), so concurrent hits from any number of instances
 * each get their own count: no read-then-write race.
 */
export async function countRateLimitHit(db: Db, bucket: string, windowStart: Date, expiresAt: Date): Promise<number> {
  const [row] = await db("rate_limits")
    .insert({ bucket, window_start: dbTime(windowStart), count: 1, expires_at: dbTime(expiresAt) })
    .onConflict(["bucket", "window_start"])
    .merge({ count: db.raw("?? + 1", ["rate_limits.count"]) })
    .returning("count");
  return toNumber(row.count);
}

export async function deleteExpiredRateLimits(db: Db, now: Date): Promise<number> {
  return db("rate_limits").where("expires_at", "<=", dbTime(now)).delete();
}
