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
 * Marks a state used and returns it, or undefined when it is unknown, expired, used, for
 * another purpose, or (with `githubUserId`) issued to someone else. The conditional UPDATE is
 * the single-use guarantee: of two concurrent callbacks with one state, exactly one updates a
 * row. A refused state writes nothing, so it stays usable by the one it was issued to.
 */
export async function consumeOAuthState(
  db: Db,
  stateHash: string,
  purpose: StatePurpose,
  now: Date,
  githubUserId?: number,
): Promise<Pick<OAuthState, "returnTo" | "teamId" | "githubUserId"> | undefined> {
  const live = liveState(db, stateHash, purpose, now);
  if (githubUserId !== undefined) live.andWhere("github_user_id", githubUserId);
  const used = await live.update({ used_at: dbTime(now) });
  if (used !== 1) return undefined;
  const row = await db("oauth_states").where({ state_hash: stateHash }).first();
  return { returnTo: row.return_to, teamId: toNumberOrNull(row.team_id), githubUserId: toNumberOrNull(row.github_user_id) };
}

/** Whether a state is known, unused and unexpired for this purpose: nothing is written. */
export async function isLiveOAuthState(db: Db, stateHash: string, purpose: StatePurpose, now: Date): Promise<boolean> {
  return (await liveState(db, stateHash, purpose, now).first("state_hash")) !== undefined;
}

/** A known, unused, unexpired state's bindings, for checks before it is spent: nothing is written. */
export async function findLiveOAuthState(db: Db, stateHash: string, purpose: StatePurpose, now: Date): Promise<Pick<OAuthState, "returnTo" | "teamId" | "githubUserId"> | undefined> {
  const row = await liveState(db, stateHash, purpose, now).first();
  return row && { returnTo: row.return_to, teamId: toNumberOrNull(row.team_id), githubUserId: toNumberOrNull(row.github_user_id) };
}

function liveState(db: Db, stateHash: string, purpose: StatePurpose, now: Date) {
  return db("oauth_states").where({ state_hash: stateHash, purpose }).whereNull("used_at").andWhere("expires_at", ">", dbTime(now));
}

export async function deleteExpiredOAuthStates(db: Db, now: Date): Promise<number> {
  return db("oauth_states").where("expires_at", "<=", dbTime(now)).delete();
}
