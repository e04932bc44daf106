import { randomBytes } from "node:crypto";
import nock from "nock";
import { githubPublicUser } from "../fixtures/github-objects";
import { TEST_CLIENT_ID } from "./config";

export const GITHUB_WEB = "https://github.com";
export const GITHUB_API = "https://api.github.com";

export interface TestTokens {
  token: string;
  refreshToken: string;
}

/** Tokens shaped like GitHub's (ghu_/ghr_ + 36 characters), unique per call, so scans can find leaks. */
export function newTokens(): TestTokens {
  const part = () => randomBytes(27).toString("base64url").replace(/[-_]/g, "x").slice(0, 36);
  return { token: `ghu_${part()}`, refreshToken: `ghr_${part()}` };
}

/** GitHub's answer to a successful code exchange or refresh (8-hour token, 6-month refresh token). */
export function tokenBody(tokens: TestTokens, expiresIn = 28800) {
  return {
    access_token: tokens.token,
    expires_in: expiresIn,
    refresh_token: tokens.refreshToken,
    refresh_token_expires_in: 15897600,
    token_type: "bearer",
    scope: "",
  };
}

// oauth-methods computes expiries from the Date header (STACK.md pitfall 3).
const withDate = () => ({ date: new Date().toUTCString() });

type Body = Record<string, string>;

/** POST /login/oauth/access_token with this code answered with these tokens. */
export function nockCodeExchange(code: string, tokens: TestTokens): nock.Scope {
  return nock(GITHUB_WEB)
    .post("/login/oauth/access_token", (body: Body) => body.code === code && body.client_id === TEST_CLIENT_ID)
    .reply(200, tokenBody(tokens), withDate());
}

/** GitHub refusing a code, as it does: HTTP 200 with an error body. */
export function nockCodeRejected(code: string, error = "bad_verification_code"): nock.Scope {
  return nock(GITHUB_WEB)
    .post("/login/oauth/access_token", (body: Body) => body.code === code)
    .reply(200, { error, error_description: "The code passed is incorrect or expired.", error_uri: "https://docs.github.com" }, withDate());
}

/** A refresh of `refreshToken` answered (after `delayMs`) with `tokens`; `times` lets a test see extra calls. */
export function nockRefresh(refreshToken: string, tokens: TestTokens, options: { delayMs?: number; times?: number } = {}): nock.Scope {
  return nock(GITHUB_WEB)
    .post("/login/oauth/access_token", (body: Body) => body.grant_type === "refresh_token" && body.refresh_token === refreshToken)
    .times(options.times ?? 1)
    .delay(options.delayMs ?? 0)
    .reply(200, tokenBody(tokens), withDate());
}

export function nockRefreshRejected(refreshToken: string, error = "bad_refresh_token"): nock.Scope {
  return nock(GITHUB_WEB)
    .post("/login/oauth/access_token", (body: Body) => body.grant_type === "refresh_token" && body.refresh_token === refreshToken)
    .reply(200, { error, error_description: "The refresh token passed is incorrect or expired.", error_uri: "https://docs.github.com" }, withDate());
}

export interface TestUser {
  id: number;
  login: string;
}

/** GET /user answered for the holder of `token`. */
export function nockGetUser(token: string, user: TestUser): nock.Scope {
  return nock(GITHUB_API)
    .get("/user")
    .matchHeader("authorization", (v: string) => v === `token ${token}` || v === `bearer ${token}` || v === `Bearer ${token}`)
    .reply(200, githubPublicUser(user));
}
