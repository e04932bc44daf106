import type { Db } from "../db/knex";
import { dbTime, toDate, toNumber } from "./rows";

export interface Session {
  idHash: string;
  githubUserId: number;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertSession(db: Db, session: Session): Promise<void> {
  await db("sessions").insert({
    id_hash: session.idHash,
    github_user_id: session.githubUserId,
    created_at: dbTime(session.createdAt),
    expires_at: dbTime(session.expiresAt),
  });
}

/** A session that exists, is not revoked and has not expired. */
export async function findActiveSession(db: Db, idHash: string, now: Date): Promise<Session | undefined> {
  const row = await db("sessions")
    .where({ id_hash: idHash })
    .whereNull("revoked_at")
    .andWhere("expires_at", ">", dbTime(now))
    .first();
  return row
    ? { idHash: row.id_hash, githubUserId: toNumber(row.github_user_id), createdAt: toDate(row.created_at), expiresAt: toDate(row.expires_at) }
    : undefined;
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db("sessions").where({ id_hash: idHash }).delete();
}

export async function deleteExpiredSessions(db: Db, now: Date): Promise<number> {
  return db("sessions").where("expires_at", "<=", dbTime(now)).delete();
}
