import type { InstallationRepository } from "../repositories/installation-repositories";
import type { InstallationSnapshot } from "../repositories/installations";

/** The fields Octoplex reads from GitHub's installation object (webhook payloads and REST alike). */
export interface GithubInstallation {
  id: number;
  account: { id: number; login?: string; slug?: string; type?: string; avatar_url?: string } | null;
  target_type: string;
  repository_selection: "all" | "selected";
  permissions?: Record<string, string | undefined>;
  events?: string[];
  suspended_at?: string | null;
  suspended_by?: { login: string } | null;
  updated_at?: string | null;
}

/** A repository as installation webhooks name it: no owner, archived or default branch. */
export interface GithubRepositoryRef {
  id: number;
  name?: string;
  full_name: string;
  private: boolean;
}

/** A whole repository object (`repository` webhooks, GET /installation/repositories). */
export interface GithubRepository extends GithubRepositoryRef {
  name: string;
  owner: { id: number; login: string };
  archived?: boolean;
  default_branch?: string;
}

export function toInstallationSnapshot(installation: GithubInstallation): InstallationSnapshot {
  const account = installation.account;
  if (!account) throw new Error(`installation ${installation.id} has no account`);
  return {
    id: installation.id,
    account: {
      id: account.id,
      // Enterprise accounts carry a slug instead of a login.
      login: account.login ?? account.slug ?? String(account.id),
      type: account.type ?? installation.target_type,
      avatarUrl: account.avatar_url ?? null,
    },
    targetType: installation.target_type,
    repositorySelection: installation.repository_selection,
    permissions: Object.fromEntries(
      Object.entries(installation.permissions ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    ),
    events: installation.events ?? [],
    suspendedAt: installation.suspended_at ? new Date(installation.suspended_at) : null,
    suspendedBy: installation.suspended_by?.login ?? null,
    githubUpdatedAt: installation.updated_at ? new Date(installation.updated_at) : null,
  };
}

export function toRepositories(repositories: GithubRepositoryRef[] | undefined): InstallationRepository[] {
  return (repositories ?? []).map((r) => ({
    id: r.id,
    fullName: r.full_name,
    private: r.private,
    ...(r.name ? { name: r.name } : {}),
  }));
}

export function toRepository(r: GithubRepository): InstallationRepository {
  return {
    id: r.id,
    owner: r.owner.login,
    name: r.name,
    fullName: r.full_name,
    private: r.private,
    archived: r.archived ?? null,
    defaultBranch: r.default_branch ?? null,
  };
}
