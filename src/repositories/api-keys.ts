import type { Db } from "../db/knex";
import { dbTime, toDate, toDateOrNull, toNumber } from "./rows";

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  /** null: platform-wide, it may act on every team; otherwise only on these. */
  teamIds: number[] | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function mapRow(row: Record<string, unknown>, teamIds: number[]): ApiKey {
  return {
    id: toNumber(row.id),
    name: row.name as string,
    prefix: row.prefix as string,
    teamIds: row.team_limited ? teamIds : null,
    createdAt: toDate(row.created_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    revokedAt: toDateOrNull(row.revoked_at),
  };
}

/** Each key's teams, in one query for the lot. */
async function teamsOfKeys(db: Db, keyIds: number[]): Promise<Map<number, number[]>> {
  const byKey = new Map<number, number[]>();
  if (keyIds.length === 0) return byKey;
  const rows = await db("api_key_teams").whereIn("api_key_id", keyIds).orderBy(["api_key_id", "team_id"]);
  for (const row of rows) {
    const key = toNumber(row.api_key_id);
    byKey.set(key, [...(byKey.get(key) ?? []), toNumber(row.team_id)]);
  }
  return byKey;
}

async function mapRows(db: Db, rows: Array<Record<string, unknown>>): Promise<ApiKey[]> {
  const limited = rows.filter((r) => r.team_limited).map((r) => toNumber(r.id));
  const teams = await teamsOfKeys(db, limited);
  return rows.map((row) => mapRow(row, teams.get(toNumber(row.id)) ?? []));
}

/** `teamIds` null: a platform-wide key. Write inside a transaction when limited: the key and its teams go together. */
export async function insertApiKey(
  db: Db,
  key: { name: string; keyHash: string; prefix: string; teamIds: number[] | null },
  now: Date,
): Promise<ApiKey> {
  const [row] = await db("api_keys")
    .insert({ name: key.name, key_hash: key.keyHash, prefix: key.prefix, team_limited: key.teamIds !== null, created_at: dbTime(now) })
    .returning("*");
  const teamIds = [...new Set(key.teamIds ?? [])].sort((a, b) => a - b);
  if (teamIds.length > 0) await db("api_key_teams").insert(teamIds.map((teamId) => ({ api_key_id: row.id, team_id: teamId })));
  return mapRow(row, teamIds);
}

export async function findActiveApiKeyByHash(db: Db, keyHash: string): Promise<ApiKey | undefined> {
  const row = await db("api_keys").where({ key_hash: keyHash }).whereNull("revoked_at").first();
  return row ? (await mapRows(db, [row]))[0] : undefined;
}

export async function revokeApiKey(db: Db, id: number, now: Date): Promise<boolean> {
  return (await db("api_keys").where({ id }).whereNull("revoked_at").update({ revoked_at: dbTime(now) })) === 1;
}

export async function touchApiKey(db: Db, id: number, now: Date): Promise<void> {
  await db("api_keys").where({ id }).update({ last_used_at: dbTime(now) });
}

export async function listApiKeys(db: Db): Promise<ApiKey[]> {
  return mapRows(db, await db("api_keys").orderBy("id"));
}
