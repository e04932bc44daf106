import type { Knex } from "knex";
import { AppError } from "../../errors";
import { listReachableRepositories } from "../../github/installation-repositories";
import { findInstallation } from "../../repositories/installations";
import { InstallationRepositoryMatches, searchInstallationRepositories } from "../../repositories/installation-repository-search";
import { RepositoryScope, scopesOfTeam } from "../../repositories/link-scopes";
import type { GithubAccess } from "../github-access/github-access";
import { reconcileRepositoryList, RepositoryListChanges } from "../installations/reconcile-repositories";
import type { EventRecorder } from "../events/platform-events";
import type { LinkedInstallation, Links } from "./links";
import { createScopeLosses } from "./scope-losses";
import type { Actor, Teams } from "./teams";

/** How many repositories one list shows; a search reaches the others. */
export const CHOICES_SHOWN = 50;

/** Some of an installation's repositories, for a person to tick, with the link's scope. */
export interface LinkRepositoryChoices extends InstallationRepositoryMatches {
  installationId: number;
  scope: RepositoryScope;
}

/**
 * What a person asked for on a list showing some of the installation's repositories: every
 * repository, or the ticked ones among those shown. A repository they could not see keeps its state.
 */
export type ScopePick = { all: true } | { all: false; shown: number[]; checked: number[] };

export function pickedScope(before: RepositoryScope, pick: ScopePick): RepositoryScope {
  if (pick.all) return "all";
  const shown = new Set(pick.shown);
  const kept = before === "all" ? [] : before.filter((id) => !shown.has(id));
  return [...new Set([...kept, ...pick.checked])];
}

/**
 * The connect page's repository picker: lists an installation's stored repositories against a
 * link's scope, and turns ticks into a scope change through links.changeScope, so the page and
 * PATCH /api/teams/:teamId/installations/:installationId follow the same rules.
 */
export interface LinkRepositoryChoicesDeps {
  db: Knex;
  now: () => Date;
  teams: Teams;
  links: Links;
  github: GithubAccess;
  events: EventRecorder;
}

export function createLinkRepositoryChoices({ db, now, teams, links, github, events }: LinkRepositoryChoicesDeps) {
  // What GitHub no longer lists leaves the scopes as a reconcile's removal does: audited as the system's.
  const removingFromScopes = createScopeLosses({ events, now, actor: "system" });

  async function scopeOf(teamId: number, installationId: number): Promise<RepositoryScope> {
    const scope = (await scopesOfTeam(db, teamId, installationId)).get(installationId);
    if (scope === undefined) throw new AppError("not_found", `Installation ${installationId} is not linked to team ${teamId}`);
    return scope;
  }

  return {
    async list(actor: Actor, teamId: number, installationId: number, search: { q?: string; limit?: number }): Promise<LinkRepositoryChoices> {
      await teams.access(actor, teamId, "member");
      const scope = await scopeOf(teamId, installationId);
      const matches = await searchInstallationRepositories(db, installationId, { q: search.q, limit: search.limit ?? CHOICES_SHOWN });
      return { installationId, scope, ...matches };
    },

    async pick(actor: Actor, teamId: number, installationId: number, pick: ScopePick): Promise<LinkedInstallation> {
      await teams.access(actor, teamId, "admin");
      return links.changeScope(actor, teamId, installationId, pickedScope(await scopeOf(teamId, installationId), pick));
    },

    /**
     * A team admin's way out when webhooks were missed: the stored list made what GitHub lists now
     * (every page, as the installation), as `octoplex reconcile` does for every installation.
     */
    async refresh(actor: Actor, teamId: number, installationId: number): Promise<RepositoryListChanges> {
      await teams.access(actor, teamId, "admin");
      await scopeOf(teamId, installationId);
      const installation = await findInstallation(db, installationId);
      if (!installation) throw new AppError("not_found", `Installation ${installationId} no longer exists`);
      if (installation.suspendedAt) {
        throw new AppError("installation_suspended", `The installation on ${installation.account.login} is suspended; GitHub lists its repositories again once an owner unsuspends it`);
      }
      const listed = await github.asInstallation(installationId, listReachableRepositories);
      const changes = await reconcileRepositoryList(db, installationId, installation.account.login, listed, removingFromScopes);
      if (!changes) throw new AppError("not_found", `Installation ${installationId} was uninstalled`);
      return changes;
    },
  };
}

export type LinkRepositoryChoicesService = ReturnType<typeof createLinkRepositoryChoices>;
