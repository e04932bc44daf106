import { redactTokens } from "../redact-tokens";

/**
 * @octokit/request reports a request that got no answer at all (DNS, a refused connection, our
 * timeout) as an HTTP 500 without a response, keeping only the cause's message, e.g.
 * "getaddrinfo ENOTFOUND api.github.com". That 500 was never sent by GitHub: say so instead.
 * Returns the cause's message for such an error, undefined for an answer GitHub did give.
 */
export function unreachableReason(error: unknown): string | undefined {
  const e = error as { name?: string; response?: unknown; message?: string } | undefined;
  if (e?.name !== "HttpError" || e.response) return undefined;
  // The cause's text is the network's, but a library may quote the request in it (headers, and so
  // the app's JWT): it is shown to people and logged, so tokens go first.
  return redactTokens(e.message || "no answer");
}

/** Our request timeout (request-timeout.ts) aborts: GitHub was reached but did not answer. */
export function isTimeout(reason: string): boolean {
  return /timeout|timed out|aborted/i.test(reason);
}
