import type { Db } from "../db/knex";
import { dbTime, toDate, toDateOrNull, toNumber } from "./rows";

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function mapRow(row: Record<string, unknown>): ApiKey {
  return {
    id: toNumber(row.id),
    name: row.name as string,
    prefix: row.prefix as string,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    revokedAt: toDateOrNull(row.revoked_at),
  };
}

export async function insertApiKey(db: Db, key: { name: string; keyHash: string; prefix: string }, now: Date): Promise<ApiKey> {
  const [row] = await db("api_keys")
    .insert({ name: key.name, key_hash: key.keyHash, prefix: key.prefix, created_at: dbTime(now) })
    .returning("*");
  return mapRow(row);
}

export async function findActiveApiKeyByHash(db: Db, keyHash: string): Promise<ApiKey | undefined> {
  const row = await db("api_keys").where({ key_hash: keyHash }).whereNull("revoked_at").first();
  return row ? mapRow(row) : undefined;
}

export async function revokeApiKey(db: Db, id: number, now: Date): Promise<boolean> {
  return (await db("api_keys").where({ id }).whereNull("revoked_at").update({ revoked_at: dbTime(now) })) === 1;
}

export async function touchApiKey(db: Db, id: number, now: Date): Promise<void> {
  await db("api_keys").where({ id }).update({ last_used_at: dbTime(now) });
}

export async function listApiKeys(db: Db): Promise<ApiKey[]> {
  return (await db("api_keys").orderBy("id")).map(mapRow);
}
