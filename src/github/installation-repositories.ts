import type { ProbotOctokit } from "probot";
import type { GithubRepository } from "./installation-snapshot";

/** Every repository the installation reaches (as the installation), every page. */
export async function listReachableRepositories(installationOctokit: ProbotOctokit): Promise<GithubRepository[]> {
  // paginate unwraps GitHub's { total_count, repository_selection, repositories } pages into one list.
  return (await installationOctokit.paginate("GET /installation/repositories", { per_page: 100 })) as unknown as GithubRepository[];
}
