import type { ProbotOctokit } from "probot";
import type { GithubInstallation } from "./installation-snapshot";

/** Every installation of the app, all pages, with the app's JWT. */
export async function listAppInstallations(
  appOctokit: ProbotOctokit,
  onPage?: (fetched: number) => void,
): Promise<GithubInstallation[]> {
  const all: GithubInstallation[] = [];
  for await (const { data } of appOctokit.paginate.iterator("GET /app/installations", { per_page: 100 })) {
    all.push(...(data as GithubInstallation[]));
    onPage?.(all.length);
  }
  return all;
}
