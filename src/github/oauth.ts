import { Octokit } from "@octokit/core";
import { OAuthApp } from "@octokit/oauth-app";
import type { ProbotOctokit } from "probot";
import { AppError } from "../errors";
import { OAuthRejected } from "./oauth-rejected";

/** A user access token pair; expiries are null for apps that opted out of expiring tokens. */
export interface TokenSet {
  token: string;
  expiresAt: Date | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: Date | null;
}

export interface GithubIdentity {
  id: number;
  login: string;
  name: string | null;
  avatarUrl: string | null;
}

export { OAuthRejected };

export interface GithubOAuth {
  authorizeUrl(state: string, redirectUrl: string): string;
  exchangeCode(code: string, redirectUrl: string): Promise<TokenSet>;
  refresh(refreshToken: string): Promise<TokenSet>;
  /** False when GitHub no longer knows the token (revoked grant, deleted token). */
  isTokenValid(token: string): Promise<boolean>;
  deleteToken(token: string): Promise<void>;
  deleteAuthorization(token: string): Promise<void>;
  getIdentity(token: string): Promise<GithubIdentity>;
}

export interface GithubOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** API base URL: https://api.github.com, a GHES /api/v3 URL, or a fake GitHub in tests. */
  baseUrl: string;
  /** Builds the user-token Octokit for GET /user. */
  Octokit: typeof ProbotOctokit;
}

// A refresh runs while the user's token row is locked: bound how long GitHub may keep it.
const OAUTH_TIMEOUT_MS = 10_000;
const OAuthOctokit = Octokit.defaults({
  request: {
    fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(OAUTH_TIMEOUT_MS) }),
  },
});

/** Every OAuth call through @octokit/oauth-app; failures become OAuthRejected or github_unavailable. */
export function createGithubOAuth(options: GithubOAuthOptions): GithubOAuth {
  const app = new OAuthApp({
    clientType: "github-app",
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    baseUrl: options.baseUrl,
    // oauth-app 6 uses `baseUrl` only for the authorize URL; its requests follow its Octokit's
    // baseUrl. Without this a GHES deployment would send codes and client secret to github.com.
    Octokit: OAuthOctokit.defaults({ baseUrl: options.baseUrl }),
  });

  return {
    authorizeUrl(state, redirectUrl) {
      return app.getWebFlowAuthorizationUrl({ state, redirectUrl }).url;
    },
    async exchangeCode(code, redirectUrl) {
      const { authentication } = await call(() => app.createToken({ code, redirectUrl }));
      return toTokenSet(authentication);
    },
    async refresh(refreshToken) {
      const { authentication } = await call(() => app.refreshToken({ refreshToken }));
      return toTokenSet(authentication);
    },
    async isTokenValid(token) {
      try {
        await app.checkToken({ token });
        return true;
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 404 || status === 401 || status === 422) return false;
        throw unavailable(error);
      }
    },
    async deleteToken(token) {
      await call(() => app.deleteToken({ token }));
    },
    async deleteAuthorization(token) {
      await call(() => app.deleteAuthorization({ token }));
    },
    async getIdentity(token) {
      const octokit = new options.Octokit({ auth: { token }, baseUrl: options.baseUrl });
      const { data } = await call(() => octokit.request("GET /user"));
      return { id: data.id, login: data.login, name: data.name ?? null, avatarUrl: data.avatar_url ?? null };
    },
  };
}

function toTokenSet(a: { token: string; expiresAt?: string; refreshToken?: string; refreshTokenExpiresAt?: string }): TokenSet {
  return {
    token: a.token,
    expiresAt: a.expiresAt ? new Date(a.expiresAt) : null,
    refreshToken: a.refreshToken ?? null,
    refreshTokenExpiresAt: a.refreshTokenExpiresAt ? new Date(a.refreshTokenExpiresAt) : null,
  };
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    // GitHub answers OAuth errors with 200 and {error, error_description}; oauth-methods turns them into 400s.
    const data = (error as { response?: { data?: { error?: string; error_description?: string } } }).response?.data;
    if (data?.error) throw new OAuthRejected(data.error, data.error_description ?? data.error);
    const status = (error as { status?: number }).status;
    if (status === 401 || status === 404) throw new OAuthRejected("unauthorized", "GitHub no longer accepts this token");
    throw unavailable(error);
  }
}

function unavailable(error: unknown): AppError {
  const status = (error as { status?: number }).status;
  // @octokit/request reports a connection error or a timeout as a 500 without a response: 503, as in github-access.
  const answered = status !== undefined && Boolean((error as { response?: unknown }).response);
  // Never include the upstream message verbatim: it may echo request data.
  return new AppError("github_unavailable", `GitHub did not answer the OAuth request${answered ? ` (HTTP ${status})` : ""}; try again`, {
    status: answered && status! >= 500 && status !== 503 ? 502 : 503,
  });
}
