import type { Db } from "../db/knex";
import { dbTime, toDate, toDateOrNull, toNumber } from "./rows";

export interface GithubUser {
  id: number;
  login: string;
  name: string | null;
  avatarUrl: string | null;
  reauthorizationRequiredAt: Date | null;
  createdAt: Date;
}

function mapRow(row: Record<string, unknown>): GithubUser {
  return {
    id: toNumber(row.id),
    login: row.login as string,
    name: (row.name as string | null) ?? null,
    avatarUrl: (row.avatar_url as string | null) ?? null,
    reauthorizationRequiredAt: toDateOrNull(row.reauthorization_required_at),
    createdAt: toDate(row.created_at),
  };
}

/** Stores who signed in; signing in clears any "sign in again" mark. */
export async function upsertGithubUser(
  db: Db,
  user: { id: number; login: string; name: string | null; avatarUrl: string | null },
  now: Date,
): Promise<void> {
  const row = {
    login: user.login,
    name: user.name,
    avatar_url: user.avatarUrl,
    reauthorization_required_at: null,
    updated_at: dbTime(now),
  };
  await db("github_users")
    .insert({ id: user.id, ...row, created_at: dbTime(now) })
    .onConflict("id")
    .merge(Object.keys(row));
}

export async function findGithubUser(db: Db, id: number): Promise<GithubUser | undefined> {
  const row = await db("github_users").where({ id }).first();
  return row ? mapRow(row) : undefined;
}

export async function markReauthorizationRequired(db: Db, id: number, now: Date): Promise<void> {
  await db("github_users").where({ id }).update({ reauthorization_required_at: dbTime(now), updated_at: dbTime(now) });
}
