import type { ProbotOctokit } from "probot";
import type { GithubInstallation } from "./installation-snapshot";

/** Every installation of the app, all pages, with the app's JWT. */
export async function listAppInstallations(
  appOctokit: ProbotOctokit,
  onPage?: (fetched: number) => void,
): Promise<GithubInstallation[]> {
  const all: GithubInstallation[] = [];
  let page = 1;
  try {
    for await (const { data } of appOctokit.paginate.iterator("GET /app/installations", { per_page: 100 })) {
      all.push(...(data as GithubInstallation[]));
      onPage?.(all.length);
      page++;
    }
  } catch (error) {
    // Octokit's message alone ("Server Error") does not say what failed.
    const status = (error as { status?: number }).status;
    throw new Error(
      `listing the app's installations on GitHub failed on page ${page}${status ? ` (HTTP ${status})` : ""}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return all;
}
