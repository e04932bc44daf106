import type { Knex } from "knex";
import { AppError } from "../../errors";
import { addInstallationRepositories, InstallationRepository } from "../../repositories/installation-repositories";
import type { Installation } from "../../repositories/installations";
import type { EventRecorder } from "../events/platform-events";
import { createLinkScopes } from "../teams/link-scopes";
import type { GithubAccess } from "./github-access";
import { AsCreator, checkTemplate, generateFromTemplate } from "./repository-template";
import { linkedInstallation } from "../teams/team-installation";
import type { Actor, Teams } from "../teams/teams";

export interface NewRepository {
  installationId: number;
  name: string;
  private?: boolean;
  description?: string;
  autoInit?: boolean;
  /** "owner/name" of a template repository to generate the new one from. */
  template?: string;
  /** With a template: every branch of it, not only the default one. */
  includeAllBranches?: boolean;
}

export interface CreatedRepository {
  fullName: string;
  htmlUrl: string;
  defaultBranch: string;
}

/**
 * Creates a repository on a team's installation. Organizations: as the installation. User
 * accounts: GitHub refuses installation tokens for POST /user/repos, so as the user — and only
 * when the caller is that very account.
 */
export interface RepositoryCreatorDeps {
  db: Knex;
  teams: Teams;
  github: GithubAccess;
  now: () => Date;
  events: EventRecorder;
}

/** What GitHub answers about a created repository, as far as it is stored. */
interface GithubRepository {
  id?: number;
  full_name: string;
  private?: boolean;
  archived?: boolean;
  default_branch?: string;
}

function toStoredRepository(r: GithubRepository): InstallationRepository | null {
  if (typeof r.id !== "number") return null;
  return { id: r.id, fullName: r.full_name, private: r.private ?? true, archived: r.archived ?? null, defaultBranch: r.default_branch ?? null };
}

export function createRepositoryCreator({ db, teams, github, now, events }: RepositoryCreatorDeps) {
  const scopes = createLinkScopes({ db, now, github, events });

  /**
   * The new repository, stored as one of the installation's, joins the creating team's list scope
   * (audited, a scope_changed event): a team that may create only in its listed repositories would
   * otherwise make one it cannot commit to. Known to be the installation's when it reaches every
   * repository, or when the installation made it (GitHub adds it to a "selected" installation);
   * one a user made on a "selected" installation arrives with GitHub's webhook, if it is added.
   */
  async function joinScope(actor: Actor, teamId: number, installation: Installation, created: GithubRepository, byInstallation: boolean): Promise<void> {
    const repository = toStoredRepository(created);
    if (!repository || (installation.repositorySelection === "selected" && !byInstallation)) return;
    await db.transaction(async (trx) => {
      await addInstallationRepositories(trx, installation.id, [repository]);
      const before = await scopes.current(trx, teamId, installation.id, true);
      if (!Array.isArray(before)) return;
      await scopes.write(trx, actor, teamId, installation.id, { scope: [...before, repository.id], fetched: null }, before);
    });
  }

  return async function createRepository(actor: Actor, teamId: number, input: NewRepository): Promise<CreatedRepository> {
    await teams.access(actor, teamId, "member");
    const installation = await linkedInstallation(db, teamId, input.installationId);
    const organization = installation.account.type === "Organization";
    if (!organization) {
      if (actor.userId === null) {
        throw new AppError("user_required", "A personal repository is created as its owner: send X-Octoplex-User");
      }
      if (actor.userId !== installation.account.id) {
        throw new AppError("forbidden", `Only ${installation.account.login} may create repositories on their personal account`);
      }
    }
    const userId = actor.userId;
    const as: AsCreator = (work) => (organization ? github.asInstallation(installation.id, work) : github.asUser(userId!, work));
    const isPrivate = input.private ?? true;
    try {
      let data: GithubRepository & { html_url: string };
      if (input.template) {
        await checkTemplate(db, teamId, input.template, as);
        data = await generateFromTemplate(as, {
          template: input.template,
          includeAllBranches: input.includeAllBranches ?? false,
          owner: installation.account.login,
          name: input.name,
          description: input.description,
          private: isPrivate,
        });
      } else {
        const body = { name: input.name, private: isPrivate, description: input.description, auto_init: input.autoInit ?? false };
        data = organization
          ? (await as((o) => o.request("POST /orgs/{org}/repos", { org: installation.account.login, ...body }))).data
          : (await as((o) => o.request("POST /user/repos", body))).data;
      }
      // GitHub adds what the installation itself made to a "selected" installation; a user's, not.
      await joinScope(actor, teamId, installation, data, organization);
      return { fullName: data.full_name, htmlUrl: data.html_url, defaultBranch: data.default_branch ?? "main" };
    } catch (error) {
      throw explain(error, input.name);
    }
  };
}

/** GitHub's refusals, in words a platform can show. */
export function explain(error: unknown, name: string): unknown {
  const status = (error as { status?: number; name?: string }).status;
  if ((error as { name?: string }).name !== "HttpError") return error;
  const message = (error as { message?: string }).message ?? "";
  if (status === 422 && /already exists/i.test(message)) {
    return new AppError("conflict", `A repository named ${name} already exists on this account`);
  }
  if (status === 422) return new AppError("invalid_input", `GitHub refused the repository: ${message}`);
  if (status === 403 || status === 404) {
    return new AppError(
      "forbidden",
      "GitHub refused: the app needs the Administration (write) repository permission on this account; an owner must accept it in the installation's settings",
    );
  }
  return error;
}
