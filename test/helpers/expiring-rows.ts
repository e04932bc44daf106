import type { Knex } from "knex";
import { upsertGithubUser } from "../../src/repositories/github-users";
import { insertOAuthState } from "../../src/repositories/oauth-states";
import { countRateLimitHit } from "../../src/repositories/rate-limits";
import { insertSession } from "../../src/repositories/sessions";
import { ALICE } from "./users";

const minutes = (at: Date, n: number) => new Date(at.getTime() + n * 60_000);

/**
 * In each table housekeeping purges, one row that expired a minute before `at` and one that
 * expires a minute after it; `remaining` lists which are left, by the names given here.
 */
export async function seedExpiringRows(db: Knex, at: Date): Promise<void> {
  await upsertGithubUser(db, { id: ALICE.id, login: ALICE.login, name: null, avatarUrl: null }, at);
  for (const [name, expiresAt] of [["expired", minutes(at, -1)], ["live", minutes(at, 1)]] as const) {
    const state = { purpose: "login" as const, returnTo: "/", teamId: null, githubUserId: null, createdAt: minutes(expiresAt, -10), expiresAt };
    await insertOAuthState(db, { stateHash: `${name}-state`, ...state });
    await insertSession(db, { idHash: `${name}-session`, githubUserId: ALICE.id, createdAt: minutes(expiresAt, -60), expiresAt });
    await countRateLimitHit(db, `${name}-window`, minutes(expiresAt, -1), expiresAt);
  }
}

export async function remainingExpiringRows(db: Knex): Promise<{ oauthStates: string[]; sessions: string[]; rateLimits: string[] }> {
  return {
    oauthStates: (await db("oauth_states").pluck("state_hash")).sort(),
    sessions: (await db("sessions").pluck("id_hash")).sort(),
    rateLimits: (await db("rate_limits").pluck("bucket")).sort(),
  };
}

export const ONLY_LIVE_ROWS = { oauthStates: ["live-state"], sessions: ["live-session"], rateLimits: ["live-window"] };
