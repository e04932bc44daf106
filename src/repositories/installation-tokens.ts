import type { Db } from "../db/knex";
import { dbTime } from "./rows";

const TOKENS = "installation_tokens";
const LEASES = "installation_token_leases";

/** The encrypted cached value for `key` if it is still valid at `validAt`. */
export async function findInstallationToken(db: Db, key: string, validAt: Date): Promise<string | undefined> {
  const row = await db(TOKENS).where({ cache_key: key }).andWhere("expires_at", ">", dbTime(validAt)).first("value_encrypted");
  return row?.value_encrypted as string | undefined;
}

export async function saveInstallationToken(
  db: Db,
  entry: { key: string; installationId: number; valueEncrypted: string; expiresAt: Date },
  now: Date,
): Promise<void> {
  const row = { installation_id: entry.installationId, value_encrypted: entry.valueEncrypted, expires_at: dbTime(entry.expiresAt), created_at: dbTime(now) };
  await db(TOKENS).insert({ cache_key: entry.key, ...row }).onConflict("cache_key").merge(Object.keys(row));
}

export async function deleteInstallationTokens(db: Db, installationId: number): Promise<number> {
  return db(TOKENS).where({ installation_id: installationId }).delete();
}

/** Takes the right to mint `key` until `until`; false while another process holds it. */
export async function acquireTokenLease(db: Db, key: string, until: Date, now: Date): Promise<boolean> {
  await db(LEASES).where({ cache_key: key }).andWhere("expires_at", "<=", dbTime(now)).delete();
  const inserted = await db(LEASES).insert({ cache_key: key, expires_at: dbTime(until) }).onConflict("cache_key").ignore().returning("cache_key");
  return inserted.length > 0;
}

export async function releaseTokenLease(db: Db, key: string): Promise<void> {
  await db(LEASES).where({ cache_key: key }).delete();
}

export async function hasTokenLease(db: Db, key: string, now: Date): Promise<boolean> {
  return Boolean(await db(LEASES).where({ cache_key: key }).andWhere("expires_at", ">", dbTime(now)).first("cache_key"));
}
