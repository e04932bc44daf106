import type { Db } from "../db/knex";
import { isPostgres } from "../db/knex";
import { dbTime, toDateOrNull, toNumber } from "./rows";

/** A user's token pair as stored: still encrypted. Services decrypt with the token cipher. */
export interface StoredUserToken {
  githubUserId: number;
  keyId: string;
  accessTokenEncrypted: string;
  accessTokenExpiresAt: Date | null;
  refreshTokenEncrypted: string | null;
  refreshTokenExpiresAt: Date | null;
  version: number;
}

export type NewUserToken = Omit<StoredUserToken, "version">;

const TABLE = "user_tokens";

function mapRow(row: Record<string, unknown>): StoredUserToken {
  return {
    githubUserId: toNumber(row.github_user_id),
    keyId: row.key_id as string,
    accessTokenEncrypted: row.access_token_encrypted as string,
    accessTokenExpiresAt: toDateOrNull(row.access_token_expires_at),
    refreshTokenEncrypted: (row.refresh_token_encrypted as string | null) ?? null,
    refreshTokenExpiresAt: toDateOrNull(row.refresh_token_expires_at),
    version: toNumber(row.version),
  };
}

function columns(t: NewUserToken, now: Date) {
  return {
    key_id: t.keyId,
    access_token_encrypted: t.accessTokenEncrypted,
    access_token_expires_at: dbTime(t.accessTokenExpiresAt),
    refresh_token_encrypted: t.refreshTokenEncrypted,
    refresh_token_expires_at: dbTime(t.refreshTokenExpiresAt),
    updated_at: dbTime(now),
  };
}

export async function findUserToken(db: Db, githubUserId: number): Promise<StoredUserToken | undefined> {
  const row = await db(TABLE).where({ github_user_id: githubUserId }).first();
  return row ? mapRow(row) : undefined;
}

/**
 * Reads the row for update inside `trx`, holding it until commit so no other process refreshes
 * the same single-use refresh token. Postgres: SELECT … FOR UPDATE. SQLite: a write first
 * (BEGIN is deferred, so reading first would let every process read, then all refresh).
 */
export async function lockUserToken(trx: Db, githubUserId: number): Promise<StoredUserToken | undefined> {
  if (isPostgres(trx)) {
    const row = await trx(TABLE).where({ github_user_id: githubUserId }).forUpdate().first();
    return row ? mapRow(row) : undefined;
  }
  await trx(TABLE).where({ github_user_id: githubUserId }).update({ version: trx.raw("version") });
  return findUserToken(trx, githubUserId);
}

/** A new sign-in replaces whatever pair was stored. */
export async function saveUserToken(db: Db, token: NewUserToken, now: Date): Promise<void> {
  const cols = columns(token, now);
  await db(TABLE)
    .insert({ github_user_id: token.githubUserId, ...cols, version: 0, created_at: dbTime(now) })
    .onConflict("github_user_id")
    .merge({ ...cols, version: db.raw("?? + 1", [`${TABLE}.version`]) });
}

/** Compare-and-swap: writes only if the row is still at `expectedVersion`. */
export async function replaceUserToken(db: Db, token: NewUserToken, expectedVersion: number, now: Date): Promise<boolean> {
  const updated = await db(TABLE)
    .where({ github_user_id: token.githubUserId, version: expectedVersion })
    .update({ ...columns(token, now), version: expectedVersion + 1 });
  return updated === 1;
}

export async function deleteUserToken(db: Db, githubUserId: number): Promise<boolean> {
  return (await db(TABLE).where({ github_user_id: githubUserId }).delete()) > 0;
}

/** The next rows not yet under `keyId`, for rotation in batches (resumable: done rows drop out). */
export async function listUserTokensNotUnderKey(db: Db, keyId: string, limit: number, afterUserId = 0): Promise<StoredUserToken[]> {
  const rows = await db(TABLE)
    .whereNot({ key_id: keyId })
    .andWhere("github_user_id", ">", afterUserId)
    .orderBy("github_user_id")
    .limit(limit);
  return rows.map(mapRow);
}

export async function countUserTokens(db: Db, filter: { keyId?: string; notKeyId?: string } = {}): Promise<number> {
  const query = db(TABLE).count({ n: "*" });
  if (filter.keyId) query.where({ key_id: filter.keyId });
  if (filter.notKeyId) query.whereNot({ key_id: filter.notKeyId });
  return toNumber((await query)[0].n);
}

export async function listUserTokenKeyIds(db: Db): Promise<string[]> {
  return (await db(TABLE).distinct("key_id").orderBy("key_id")).map((r) => r.key_id as string);
}
