import type { Deps } from "../../src/deps";
import { upsertGithubUser } from "../../src/repositories/github-users";
import { newTokens, TestTokens, TestUser } from "./github-oauth";

export const ALICE: TestUser = { id: 5001, login: "alice" };
export const BOB: TestUser = { id: 5002, login: "bob" };

/**
 * A signed-in user with a stored token pair, as if they had completed the web flow.
 * `expiresInMs` below five minutes makes the next getUserToken refresh; null: a non-expiring token.
 */
export async function seedSignedInUser(
  deps: Deps,
  user: TestUser,
  options: { expiresInMs?: number | null; refreshExpiresInMs?: number; tokens?: TestTokens } = {},
): Promise<TestTokens> {
  const auth = deps.services.auth!;
  const tokens = options.tokens ?? newTokens();
  const now = deps.now().getTime();
  const expiresInMs = options.expiresInMs === undefined ? 8 * 3600_000 : options.expiresInMs;
  await upsertGithubUser(deps.db, { id: user.id, login: user.login, name: null, avatarUrl: null }, deps.now());
  await auth.userTokens.store(user.id, {
    token: tokens.token,
    expiresAt: expiresInMs === null ? null : new Date(now + expiresInMs),
    refreshToken: expiresInMs === null ? null : tokens.refreshToken,
    refreshTokenExpiresAt: expiresInMs === null ? null : new Date(now + (options.refreshExpiresInMs ?? 180 * 24 * 3600_000)),
  });
  return tokens;
}
