import type { Db } from "../db/knex";

/** Forgets everything that lets Octoplex act as a user: their tokens and their sessions. */
export async function deleteUserGrant(db: Db, githubUserId: number): Promise<{ tokens: number; sessions: number }> {
  const tokens = await db("user_tokens").where({ github_user_id: githubUserId }).delete();
  const sessions = await db("sessions").where({ github_user_id: githubUserId }).delete();
  return { tokens, sessions };
}
