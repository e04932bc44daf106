import type { ProbotOctokit } from "probot";

/**
 * How long one GitHub API call may take. Without a bound a GitHub that accepts the connection and
 * never answers holds the caller's HTTP request for undici's 300-second header timeout, per attempt.
 * With the retry plugin (3 retries after 1, 4 and 9 s) a hung GitHub answers 503 after about 54 s.
 */
export const GITHUB_REQUEST_TIMEOUT_MS = 10_000;

const WRAPPED = Symbol("requestTimeout");
type Fetch = typeof fetch;

/** A fetch that gives up after `ms`; @octokit/request reports that as a 500 without a response, which retries. */
export function timeoutFetch(ms: number, inner?: Fetch): Fetch {
  if (inner && (inner as unknown as Record<symbol, boolean>)[WRAPPED]) return inner;
  const wrapped = (input: Parameters<Fetch>[0], init: Parameters<Fetch>[1] = {}) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    // Resolved per call: tests replace the global fetch (nock) after this module loads.
    return (inner ?? globalThis.fetch)(input, { ...init, signal });
  };
  return Object.assign(wrapped, { [WRAPPED]: true }) as unknown as Fetch;
}

/** The Octokit class with every request bounded by `ms` (function-form defaults, like withClockSkewRetry). */
export function withRequestTimeout(Octokit: typeof ProbotOctokit, ms: number): typeof ProbotOctokit {
  return Octokit.defaults((options: { request?: { fetch?: Fetch } }) => ({
    ...options,
    request: { ...options.request, fetch: timeoutFetch(ms, options.request?.fetch) },
  })) as typeof ProbotOctokit;
}
