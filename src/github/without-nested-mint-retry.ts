import type { ProbotOctokit } from "probot";

const MINT = /\/app\/installations\/(?:\{installation_id\}|\d+)\/access_tokens$/;

/**
 * @octokit/auth-app mints an installation token from inside the request that needs it, through
 * the Octokit's own hooks: the retry plugin retries the failed mint (after 1, 4 and 9 s), and then
 * the outer request sees the same failure and retries it all again — and again. Measured here: a
 * GitHub that kept answering 502 to the mint held POST /api/teams/:id/repositories for 160 s
 * (12 mints and more) instead of 15 s. A mint that failed after its own retries is final: without
 * `error.request.request` the retry plugin of the outer request passes it on instead.
 */
export function withoutNestedMintRetry(Octokit: typeof ProbotOctokit): typeof ProbotOctokit {
  return Octokit.plugin((octokit: { hook: ProbotOctokit["hook"] }) => {
    octokit.hook.error("request", async (error, options) => {
      const failed = error as { request?: { request?: unknown } };
      if (options.method === "POST" && MINT.test(String(options.url)) && failed.request) {
        failed.request = { ...failed.request, request: undefined };
      }
      throw error;
    });
  }) as typeof ProbotOctokit;
}
