import type { ProbotOctokit } from "probot";
import type { GithubInstallation } from "./installation-snapshot";
import { unreachableReason } from "./unreachable";

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
    const unreachable = unreachableReason(error);
    if (unreachable !== undefined) {
      throw new Error(`could not reach GitHub to list the app's installations (${unreachable}); check the network, then run it again`, { cause: error });
    }
    // Octokit's message alone ("Server Error") does not say what failed.
    const status = (error as { status?: number }).status;
    throw new Error(
      `listing the app's installations on GitHub failed on page ${page}${status ? ` (HTTP ${status})` : ""}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return all;
}

/** One installation of this app, with the app's JWT; null when GitHub has no such installation. */
export async function getAppInstallation(appOctokit: ProbotOctokit, installationId: number): Promise<GithubInstallation | null> {
  try {
    const { data } = await appOctokit.request("GET /app/installations/{installation_id}", { installation_id: installationId });
    return data as unknown as GithubInstallation;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

/** The app's URL slug (github.com/apps/<slug>), for install links when APP_SLUG is not set. */
export async function getAppSlug(appOctokit: ProbotOctokit): Promise<string> {
  const { data } = await appOctokit.request("GET /app");
  return (data as { slug: string }).slug;
}
