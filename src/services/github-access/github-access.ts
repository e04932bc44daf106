import type { Probot, ProbotOctokit } from "probot";
import { AppError } from "../../errors";
import { isRateLimited, retryAfterSeconds } from "../../github/rate-limit";
import { isTimeout, unreachableReason } from "../../github/unreachable";
import type { UserTokens } from "../identity/user-tokens";

export interface GithubAccessDeps {
  /** Absent where no user token can be had (the CLI): acting as a user then fails. */
  userTokens?: UserTokens;
  Octokit: typeof ProbotOctokit;
  baseUrl: string;
  probot?: Probot;
  /** Drops an installation's cached tokens (see installation-token-cache). */
  forgetInstallationTokens?: (installationId: number) => Promise<void>;
}

/**
 * Runs GitHub calls as a user (their refreshed token) or as the app (JWT), and turns GitHub's
 * failures into domain errors: 401 on a user token → check the grant (reauthorization_required),
 * 5xx, no answer (connection error, timeout) or a rate limit → github_unavailable. Other errors
 * pass through for the caller to interpret.
 */
export function createGithubAccess({ userTokens, Octokit, baseUrl, probot, forgetInstallationTokens }: GithubAccessDeps) {
  return {
    async asUser<T>(userId: number, work: (octokit: ProbotOctokit) => Promise<T>): Promise<T> {
      if (!userTokens) throw new Error("acting as a user needs the sign-in configuration");
      const token = await userTokens.get(userId);
      const octokit = new Octokit({ auth: { token }, baseUrl });
      try {
        return await work(octokit);
      } catch (error) {
        if (statusOf(error) === 401) return userTokens.verifyAfterUnauthorized(userId);
        throw upstream(error);
      }
    },
    /** As the installation (its access token, shared across processes by the token cache). */
    async asInstallation<T>(installationId: number, work: (octokit: ProbotOctokit) => Promise<T>): Promise<T> {
      if (!probot) throw new Error("acting as an installation needs APP_ID and the private key");
      try {
        try {
          return await work(await probot.auth(installationId));
        } catch (error) {
          // A cached token GitHub no longer accepts: forget it and try once with a fresh one.
          if (statusOf(error) !== 401 || !forgetInstallationTokens) throw error;
          await forgetInstallationTokens(installationId);
          return await work(await probot.auth(installationId));
        }
      } catch (error) {
        throw upstream(error);
      }
    },
    async asApp<T>(work: (octokit: ProbotOctokit) => Promise<T>): Promise<T> {
      if (!probot) throw new Error("acting as the app needs APP_ID and the private key");
      try {
        return await work(await probot.auth());
      } catch (error) {
        throw upstream(error);
      }
    },
  };
}

export type GithubAccess = ReturnType<typeof createGithubAccess>;

const statusOf = (error: unknown) => (error as { status?: number }).status;

function upstream(error: unknown): unknown {
  if (error instanceof AppError || (error as { name?: string }).name !== "HttpError") return error;
  const status = statusOf(error);
  // Probot's app and installation Octokits give up on a secondary rate limit (a user's wait once):
  // the 403 is GitHub asking to slow down, not refusing, so it must not read as forbidden.
  if (isRateLimited(error)) {
    const wait = retryAfterSeconds(error);
    return new AppError("github_unavailable", `GitHub is rate limiting these calls; try again ${wait ? `in ${wait} second${wait === 1 ? "" : "s"}` : "later"}`, {
      status: 503,
    });
  }
  // @octokit/request reports a connection error or a timeout as a 500 without a response.
  const unreachable = unreachableReason(error);
  if (status === undefined || unreachable !== undefined) {
    const message = unreachable === undefined || isTimeout(unreachable) ? "GitHub did not answer" : `Could not reach GitHub (${unreachable})`;
    return new AppError("github_unavailable", `${message}; try again shortly`, { status: 503 });
  }
  if (status >= 500) {
    return new AppError("github_unavailable", `GitHub did not answer (HTTP ${status}); try again shortly`, { status: status === 503 ? 503 : 502 });
  }
  return error;
}
