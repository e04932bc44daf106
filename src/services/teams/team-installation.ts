import type { Knex } from "knex";
import { AppError } from "../../errors";
import { listInstallationRepositories } from "../../repositories/installation-repositories";
import { findInstallation, Installation } from "../../repositories/installations";
import { listLinks } from "../../repositories/links";
import { scopesOfTeam } from "../../repositories/link-scopes";
import { teamScopeHolds } from "../../repositories/repository-scope";

/**
 * The installation a team may act through: linked to the team (404 otherwise, as for any other
 * team's resource) and not suspended (409, before any GitHub call).
 */
export async function linkedInstallation(db: Knex, teamId: number, installationId: number): Promise<Installation> {
  const linked = (await listLinks(db, { teamId, installationId })).length > 0;
  const installation = linked ? await findInstallation(db, installationId) : undefined;
  if (!installation) throw new AppError("not_found", `Installation ${installationId} is not linked to team ${teamId}`);
  assertActive(installation);
  return installation;
}

/** The team's linked installation on `owner`'s account that covers `owner/repo`. */
export async function installationForRepository(db: Knex, teamId: number, owner: string, repo: string): Promise<Installation> {
  const fullName = `${owner}/${repo}`.toLowerCase();
  for (const link of await listLinks(db, { teamId })) {
    const installation = await findInstallation(db, link.installationId);
    if (!installation || installation.account.login.toLowerCase() !== owner.toLowerCase()) continue;
    if (installation.repositorySelection === "selected") {
      const repositories = await listInstallationRepositories(db, installation.id);
      if (!repositories.some((r) => r.fullName.toLowerCase() === fullName)) continue;
    }
    assertActive(installation);
    return installation;
  }
  throw new AppError("not_found", `${owner}/${repo} is not in a GitHub installation linked to team ${teamId}`);
}

/**
 * Whether `owner/repo` lies in the team's repository scope: a stored repository of a linked,
 * active installation that the link covers, or one not stored yet on the account of an
 * installation reaching every repository through an "all" link (GitHub's webhook may be late).
 */
export async function repositoryInTeamScope(db: Knex, teamId: number, owner: string, repo: string): Promise<boolean> {
  if (await teamScopeHolds(db, teamId, `${owner}/${repo}`)) return true;
  for (const [installationId, scope] of await scopesOfTeam(db, teamId)) {
    if (scope !== "all") continue;
    const installation = await findInstallation(db, installationId);
    if (!installation || installation.suspendedAt || installation.repositorySelection !== "all") continue;
    if (installation.account.login.toLowerCase() === owner.toLowerCase()) return true;
  }
  return false;
}

function assertActive(installation: Installation): void {
  if (installation.suspendedAt) {
    throw new AppError("installation_suspended", `The installation on ${installation.account.login} is suspended; an owner must unsuspend it on GitHub`);
  }
}
