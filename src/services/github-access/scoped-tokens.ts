import type { Knex } from "knex";
import { AppError } from "../../errors";
import { appendAuditEvents } from "../../repositories/audit-events";
import { listInstallationRepositories, StoredRepository } from "../../repositories/installation-repositories";
import { findInstallation } from "../../repositories/installations";
import { RepositoryScope, scopesOfTeam } from "../../repositories/link-scopes";
import { linkedInstallation } from "../teams/team-installation";
import { Actor, auditActorOf, Teams } from "../teams/teams";
import type { GithubAccess } from "./github-access";

/** GitHub refuses more repositories in one token. */
export const MAX_TOKEN_REPOSITORIES = 500;

export type PermissionLevel = "read" | "write";

export interface TokenRequest {
  repositories?: string[];
  installationId?: number;
  permissions?: Record<string, PermissionLevel>;
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
  installationId: number;
  repositories: string[];
  permissions: Record<string, string>;
}

// "write" includes "read"; an installation may also hold "admin" on a few.
const RANK: Record<string, number> = { read: 1, write: 2, admin: 3 };

/** GitHub Apps' permission names (repository, organization and account): anything else is a typo. */
export const PERMISSION_NAMES = new Set([
  "actions", "administration", "attestations", "checks", "codespaces", "contents", "custom_properties", "dependabot_secrets",
  "deployments", "environments", "issues", "merge_queues", "metadata", "packages", "pages", "pull_requests",
  "repository_custom_properties", "repository_hooks", "repository_projects", "secret_scanning_alerts", "secrets",
  "security_events", "single_file", "statuses", "vulnerability_alerts", "workflows", "members", "organization_administration",
  "organization_announcement_banners", "organization_copilot_seat_management", "organization_custom_org_roles",
  "organization_custom_properties", "organization_custom_roles", "organization_events", "organization_hooks",
  "organization_packages", "organization_personal_access_token_requests", "organization_personal_access_tokens",
  "organization_plan", "organization_projects", "organization_secrets", "organization_self_hosted_runners",
  "organization_user_blocking", "team_discussions", "email_addresses", "followers", "git_ssh_keys", "gpg_keys",
  "interaction_limits", "profile", "starring",
]);

interface Target {
  installationId: number;
  /** Asked-for repositories the team's scope does not reach (then refused, with any permission beyond). */
  outside: string[];
  /** Undefined: every repository of the installation (an "all" scope asked for whole). */
  repositoryIds?: number[];
  repositories: string[];
}

/**
 * Installation tokens for the platform, which GitHub itself limits to the repositories and
 * permissions asked for. Everything is checked here first, so what lies outside the team's reach
 * is refused without a call to GitHub. Minting goes through auth-app, whose cache key holds the
 * repository ids and permissions: the shared token cache then serves each such token to every
 * process until five minutes before it expires.
 */
export function createScopedTokens({ db, now, teams, github }: { db: Knex; now: () => Date; teams: Teams; github: GithubAccess }) {
  async function target(teamId: number, request: TokenRequest): Promise<Target> {
    const scopes = await scopesOfTeam(db, teamId);
    if (request.installationId !== undefined && !scopes.has(request.installationId)) {
      throw new AppError("not_found", `Installation ${request.installationId} is not linked to team ${teamId}`);
    }
    if (!request.repositories) {
      if (request.installationId === undefined) throw new AppError("invalid_input", "installationId is required when repositories is left out");
      const scope = scopes.get(request.installationId)!;
      const reachable = inScope(await listInstallationRepositories(db, request.installationId), scope);
      return {
        installationId: request.installationId,
        outside: [],
        repositoryIds: scope === "all" ? undefined : reachable.map((r) => r.id),
        repositories: reachable.map((r) => r.fullName),
      };
    }
    const wanted = [...new Set(request.repositories.map((r) => r.toLowerCase()))];
    const candidates = request.installationId === undefined ? [...scopes.keys()] : [request.installationId];
    // Each asked-for repository, by the installations whose scope (for this team) covers it.
    const found = new Map<string, Array<{ installationId: number; repository: StoredRepository }>>();
    for (const installationId of candidates) {
      for (const repository of inScope(await listInstallationRepositories(db, installationId), scopes.get(installationId)!)) {
        const key = repository.fullName.toLowerCase();
        if (wanted.includes(key)) found.set(key, [...(found.get(key) ?? []), { installationId, repository }]);
      }
    }
    const outside = [...new Set(request.repositories.filter((r) => !found.has(r.toLowerCase())))];
    const reached = wanted.filter((name) => found.has(name));
    const installationId = candidates.find((id) => reached.every((name) => found.get(name)!.some((f) => f.installationId === id)));
    if (installationId === undefined) {
      // Refused either way: say what is outside first, as nothing of it may be probed further.
      if (outside.length > 0) throw outsideError({ repositories: outside });
      throw new AppError("invalid_input", "The repositories lie in more than one installation; a token covers one installation's repositories");
    }
    const chosen = reached.map((name) => found.get(name)!.find((f) => f.installationId === installationId)!.repository);
    chosen.sort((a, b) => a.id - b.id);
    return { installationId, outside, repositoryIds: chosen.map((r) => r.id), repositories: chosen.map((r) => r.fullName) };
  }

  return async function issueToken(actor: Actor, teamId: number, request: TokenRequest): Promise<IssuedToken> {
    await teams.access(actor, teamId, "member");
    const unknown = Object.keys(request.permissions ?? {}).filter((name) => !PERMISSION_NAMES.has(name));
    if (unknown.length > 0) throw new AppError("invalid_input", `Not GitHub permissions: ${unknown.join(", ")}`);
    if ((request.repositories?.length ?? 0) > MAX_TOKEN_REPOSITORIES) {
      throw new AppError("invalid_input", `At most ${MAX_TOKEN_REPOSITORIES} repositories per token`);
    }
    const { installationId, outside, repositoryIds, repositories } = await target(teamId, request);
    const installation = await findInstallation(db, installationId);
    if (!installation) throw new AppError("not_found", `Installation ${installationId} is not linked to team ${teamId}`);
    const beyond = Object.entries(request.permissions ?? {}).filter(([name, level]) => (RANK[installation.permissions[name]] ?? 0) < RANK[level]);
    if (outside.length > 0 || beyond.length > 0) {
      throw outsideError({ ...(outside.length > 0 ? { repositories: outside } : {}), ...(beyond.length > 0 ? { permissions: Object.fromEntries(beyond) } : {}) });
    }
    await linkedInstallation(db, teamId, installationId); // suspended: 409 before any GitHub call
    // A token is per installation and GitHub allows no empty list: a scope with no repository yet has nothing to give.
    if (repositoryIds?.length === 0) throw new AppError("invalid_input", "The team's scope in this installation holds no repository yet");

    const permissions = request.permissions && sorted(request.permissions);
    const auth = (await github.asApp((octokit) =>
      octokit.auth({ type: "installation", installationId, repositoryIds: repositoryIds && [...repositoryIds], permissions }),
    )) as { token: string; expiresAt: string; permissions: Record<string, string> };
    // GitHub's answer (or, from the cache, what was asked): the installation's own when none was asked.
    const granted = Object.keys(auth.permissions ?? {}).some(Boolean) ? auth.permissions : (permissions ?? installation.permissions);
    await appendAuditEvents(
      db,
      [{ teamId, installationId, ...auditActorOf(actor), action: "team.token.issued", data: { repositories: repositoryIds ? repositories : "all", permissions: granted } }],
      now(),
    );
    return { token: auth.token, expiresAt: auth.expiresAt, installationId, repositories, permissions: granted };
  };
}

export type IssueToken = ReturnType<typeof createScopedTokens>;

function inScope(repositories: StoredRepository[], scope: RepositoryScope): StoredRepository[] {
  if (scope === "all") return repositories;
  const listed = new Set(scope);
  return repositories.filter((r) => listed.has(r.id));
}

function outsideError(outside: { repositories?: string[]; permissions?: Record<string, string> }): AppError {
  const what = [outside.repositories?.join(", "), outside.permissions && Object.entries(outside.permissions).map(([n, l]) => `${n}:${l}`).join(", ")].filter(Boolean);
  return new AppError("forbidden", `Outside the team's reach: ${what.join("; ")}`, { details: { outside } });
}

const sorted = (permissions: Record<string, PermissionLevel>) => Object.fromEntries(Object.entries(permissions).sort(([a], [b]) => a.localeCompare(b)));
