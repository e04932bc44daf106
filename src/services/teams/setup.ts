import type { Knex } from "knex";
import { AppError } from "../../errors";
import { getAppInstallation } from "../../github/app-installations";
import { toInstallationSnapshot } from "../../github/installation-snapshot";
import type { InstallationSnapshot } from "../../repositories/installations";
import type { RepositoryScope } from "../../repositories/link-scopes";
import { listTeamsOfUser, Membership } from "../../repositories/teams";
import type { GithubAccess } from "../github-access/github-access";
import { applySnapshot } from "../installations/installation-state";
import type { Links } from "./links";
import type { OAuthStates } from "../identity/oauth-states";
import type { Teams } from "./teams";

export type SetupOutcome =
  | { kind: "linked"; teamId: number; redirectTo: string }
  /** Installed from GitHub (Marketplace, the app's page): the person picks the team. */
  | { kind: "pick_team"; installation: InstallationSnapshot; teams: Membership[] };

export interface SetupRequest {
  installationId: number;
  setupAction: string;
  state?: string;
}

/**
 * GitHub's setup URL. Its installation_id is untrusted (anyone can type one into the URL), so it
 * is verified with the person's own token exactly as a link is, before anything is written; what
 * a success writes (a new team, the link, the install state spent) is one transaction.
 */
export function createSetup(deps: { db: Knex; now: () => Date; links: Links; teams: Teams; states: OAuthStates; github: GithubAccess }) {
  const { db, now, links, teams, states, github } = deps;

  /** Stores GitHub's current view of the installation (an install or an update of it). */
  async function refresh(installationId: number): Promise<InstallationSnapshot> {
    const fetched = await github.asApp((o) => getAppInstallation(o, installationId));
    if (!fetched) throw new AppError("not_found", `GitHub has no installation ${installationId} of this app`);
    const snapshot = toInstallationSnapshot(fetched);
    await db.transaction((trx) => applySnapshot(trx, snapshot, now(), undefined, { ignoreOrder: true }));
    return snapshot;
  }

  return {
    async handle(userId: number, request: SetupRequest): Promise<SetupOutcome> {
      const user = { kind: "user" as const, userId };
      if (request.state) {
        const invalid = () => new AppError("invalid_input", "This install link is invalid, expired or already used; start again from the team's connect page");
        const issued = await states.peekAs("install", request.state, userId);
        if (issued === "another_user") throw new AppError("forbidden", "This install link was made for another GitHub user");
        if (!issued || issued.teamId === null) throw invalid();
        const teamId = issued.teamId;
        // Every check first, the state spent last: a spoofed installation id, a demotion or a GitHub
        // outage refuses this attempt and leaves the person's state for their real install.
        await teams.access(user, teamId, "admin");
        const proof = await links.prove(userId, request.installationId);
        await db.transaction(async (trx) => {
          // Spent with the link, by a conditional update: of two callbacks with one state, one links.
          const spent = await states.consumeAs("install", request.state!, userId, trx);
          if (!spent || spent === "another_user" || spent.teamId !== teamId) throw invalid();
          await links.writeLink(trx, proof, teamId, user);
        });
        return { kind: "linked", teamId, redirectTo: issued.returnTo };
      }
      await links.verifyGrantable(userId, request.installationId);
      const installation = await refresh(request.installationId);
      const adminTeams = (await listTeamsOfUser(db, userId)).filter((t) => t.role === "admin");
      return { kind: "pick_team", installation, teams: adminTeams };
    },

    /** The person's choice on the pick-a-team page: an existing team they administer, or a new one. */
    async linkToPickedTeam(userId: number, installationId: number, choice: { teamId: number } | { newTeamName: string }, repositories: RepositoryScope = "all") {
      const user = { kind: "user" as const, userId };
      // "all" is the default a new link gets; passed on, it would also widen a list on an existing link.
      const scope = repositories === "all" ? undefined : repositories;
      if ("teamId" in choice) {
        await links.link(user, choice.teamId, installationId, scope);
        return { teamId: choice.teamId, redirectTo: `/teams/${choice.teamId}/connect` };
      }
      // All or nothing: GitHub proves the link first, then the team, its admin and the link are one write.
      const proof = await links.prove(userId, installationId);
      const checked = scope === undefined ? undefined : await links.checkScope(installationId, scope);
      const teamId = await db.transaction(async (trx) => {
        const team = await teams.createIn(trx, user, choice.newTeamName);
        await links.writeLink(trx, proof, team.id, user, checked);
        return team.id;
      });
      return { teamId, redirectTo: `/teams/${teamId}/connect` };
    },
  };
}

export type Setup = ReturnType<typeof createSetup>;
