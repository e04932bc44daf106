import type { ProbotOctokit } from "probot";

interface GithubError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

/**
 * GitHub's "slow down": a secondary rate limit (403 or 429, usually with `retry-after`) or the
 * primary one (`x-ratelimit-remaining: 0`). Not a refusal: the same call may succeed later.
 */
export function isRateLimited(error: unknown): boolean {
  const { status, message = "", response } = error as GithubError;
  if (status !== 403 && status !== 429) return false;
  const headers = response?.headers ?? {};
  return status === 429 || headers["retry-after"] !== undefined || String(headers["x-ratelimit-remaining"]) === "0" || /rate limit/i.test(message);
}

/** The seconds GitHub asked to wait, when it said. */
export function retryAfterSeconds(error: unknown): number | undefined {
  const value = Number((error as GithubError).response?.headers?.["retry-after"]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** A user-token call waits for a rate limit once, and only this long; otherwise it gives up (503). */
export const USER_RATE_LIMIT_MAX_WAIT_S = 10;

const waitOnce = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
  retryCount < 1 && retryAfter <= USER_RATE_LIMIT_MAX_WAIT_S;

/**
 * User-token Octokits are built directly from ProbotOctokit, whose own throttle handlers retry
 * every rate limit, however often and however long GitHub asks (a persistent secondary limit
 * held the HTTP request forever). Probot's app and installation Octokits give up on secondary
 * limits; user calls wait once when GitHub asks for a short pause, then give up.
 */
export function withUserRateLimitPolicy(Octokit: typeof ProbotOctokit): typeof ProbotOctokit {
  return Octokit.defaults({ throttle: { onSecondaryRateLimit: waitOnce, onRateLimit: waitOnce } }) as typeof ProbotOctokit;
}
