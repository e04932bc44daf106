import type { Db } from "../db/knex";
import { dbTime, toNumberOrNull } from "./rows";

export type StatePurpose = "login" | "install";

export interface OAuthState {
  stateHash: string;
  purpose: StatePurpose;
  returnTo: string;
  teamId: number | null;
  githubUserId: number | null;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertOAuthState(db: Db, state: OAuthState): Promise<void> {
  await db("oauth_states").insert({
    state_hash: state.stateHash,
    purpose: state.purpose,
    return_to: state.returnTo,
    team_id: state.teamId,
    github_user_id: state.githubUserId,
    created_at: dbTime(state.createdAt),
    expires_at: dbTime(state.expiresAt),
  });
}

/**
 * Marks a state used and returns it, or undefined when it is unknown, expired, used or for
 * another purpose. The conditional UPDATE is the single-use guarantee: of two concurrent
 * callbacks with one state, exactly one updates a row. A refused state writes nothing.
 */
export async function consumeOAuthState(
  db: Db,
  stateHash: string,
  purpose: StatePurpose,
  now: Date,
): Promise<Pick<OAuthState, "returnTo" | "teamId" | "githubUserId"> | undefined> {
  const used = await db("oauth_states")
    .where({ state_hash: stateHash, purpose })
    .whereNull("used_at")
    .andWhere("expires_at", ">", dbTime(now))
    .update({ used_at: dbTime(now) });
  if (used !== 1) return undefined;
  const row = await db("oauth_states").where({ state_hash: stateHash }).first();
  return { returnTo: row.return_to, teamId: toNumberOrNull(row.team_id), githubUserId: toNumberOrNull(row.github_user_id) };
}

export async function deleteExpiredOAuthStates(db: Db, now: Date): Promise<number> {
  return db("oauth_states").where("expires_at", "<=", dbTime(now)).delete();
}
