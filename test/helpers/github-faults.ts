import nock from "nock";
import { GITHUB_API } from "./github-oauth";

/**
 * GitHub misbehaving, nocked: 5xx answers, answers slower than the client waits, dropped
 * connections, and secondary rate limits as GitHub sends them. Register a fault before the
 * interceptors that answer the same call properly: nock uses the first that matches, so the
 * call fails `times` times and then succeeds (or keeps failing, with nothing behind it).
 *
 *   const fault = nockFault({ method: "GET", path: "/user/installations", authorization: tokenHeader(t) }, faults.status(502));
 *   …
 *   fault.requests      // how many requests the fault answered
 *   fault.arrivals      // when (Date.now()) each arrived
 */
export type GithubFault =
  | { kind: "status"; status: number }
  | { kind: "timeout"; delayMs: number }
  | { kind: "connection" }
  | { kind: "secondary-rate-limit"; retryAfterSeconds: number };

export const faults = {
  /** GitHub answers `status` (5xx) with its JSON error body. */
  status: (status: number): GithubFault => ({ kind: "status", status }),
  /** GitHub answers only after `delayMs`: longer than the client waits. */
  timeout: (delayMs: number): GithubFault => ({ kind: "timeout", delayMs }),
  /** The connection drops before an answer. */
  connection: (): GithubFault => ({ kind: "connection" }),
  /** 403 with `retry-after` and GitHub's wording for a secondary rate limit. */
  secondaryRateLimit: (retryAfterSeconds = 1): GithubFault => ({ kind: "secondary-rate-limit", retryAfterSeconds }),
};

export interface GithubCall {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** The path without the query (any query matches). */
  path: string | RegExp;
  /** https://api.github.com unless told (the OAuth endpoints are on https://github.com). */
  origin?: string;
  /** Only requests with this Authorization header (exactly, or passing the predicate). */
  authorization?: string | ((value: string) => boolean);
  /** Only requests whose (parsed) body passes. */
  body?: (body: Record<string, unknown>) => boolean;
}

export interface NockedFault {
  scope: nock.Scope;
  /** How many requests the fault answered so far. */
  readonly requests: number;
  /** Date.now() at each of them. */
  readonly arrivals: number[];
}

/** GitHub's words for a secondary rate limit (REST API docs, "About secondary rate limits"). */
export const SECONDARY_RATE_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0D6A:1B2C:3D4E:5F60:6789ABCD.";

/** `call` answered with `fault` for its next `times` requests. */
export function nockFault(call: GithubCall, fault: GithubFault, times = 1): NockedFault {
  const arrivals: number[] = [];
  const scope = nock(call.origin ?? GITHUB_API);
  let interceptor = scope.intercept(call.path, call.method, call.body as nock.RequestBodyMatcher | undefined).query(true);
  if (call.authorization !== undefined) interceptor = interceptor.matchHeader("authorization", call.authorization);
  interceptor = interceptor.times(times);
  scope.on("request", () => arrivals.push(Date.now()));
  // oauth-methods reads the Date header of every answer (STACK.md pitfall 3).
  const headers = { date: new Date().toUTCString() };
  switch (fault.kind) {
    case "status":
      interceptor.reply(fault.status, { message: fault.status === 503 ? "Service Unavailable" : "Server Error", documentation_url: "https://docs.github.com/rest" }, headers);
      break;
    case "timeout":
      // The answer would be a success: only the client's own timeout makes this call fail.
      interceptor.delay(fault.delayMs).reply(200, {}, headers);
      break;
    case "connection":
      interceptor.replyWithError({ code: "ECONNRESET", message: "socket hang up" });
      break;
    case "secondary-rate-limit":
      interceptor.reply(
        403,
        { message: SECONDARY_RATE_LIMIT_MESSAGE, documentation_url: "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits" },
        { ...headers, "retry-after": String(fault.retryAfterSeconds), "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4987", "x-ratelimit-resource": "core" },
      );
      break;
  }
  return {
    scope,
    get requests() {
      return arrivals.length;
    },
    arrivals,
  };
}
