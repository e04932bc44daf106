import type { ProbotOctokit } from "probot";
import type { GithubInstallation } from "./installation-snapshot";
import { isRateLimited } from "./rate-limit";

/** Every installation of this app the user can reach (all pages), straight from GitHub. */
export async function listUserInstallations(userOctokit: ProbotOctokit): Promise<GithubInstallation[]> {
  const all: GithubInstallation[] = [];
  for await (const { data } of userOctokit.paginate.iterator("GET /user/installations", { per_page: 100 })) {
    all.push(...(data as unknown as GithubInstallation[]));
  }
  return all;
}

export interface OrgMembership {
  role: "admin" | "member" | string;
  state: "active" | "pending" | string;
}

/** The user's membership of an organization, or null when GitHub says they have none. */
export async function getOrgMembership(userOctokit: ProbotOctokit, org: string): Promise<OrgMembership | null> {
  try {
    const { data } = await userOctokit.request("GET /user/memberships/orgs/{org}", { org });
    return { role: data.role, state: data.state };
  } catch (error) {
    const status = (error as { status?: number }).status;
    // A rate limit is not "no membership": it must not turn an admin into a refused link.
    if (status === 404 || (status === 403 && !isRateLimited(error))) return null;
    throw error;
  }
}
