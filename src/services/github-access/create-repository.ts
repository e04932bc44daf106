import type { Knex } from "knex";
import { AppError } from "../../errors";
import type { GithubAccess } from "./github-access";
import { linkedInstallation } from "../teams/team-installation";
import type { Actor, Teams } from "../teams/teams";

export interface NewRepository {
  installationId: number;
  name: string;
  private?: boolean;
  description?: string;
  autoInit?: boolean;
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
export function createRepositoryCreator({ db, teams, github }: { db: Knex; teams: Teams; github: GithubAccess }) {
  return async function createRepository(actor: Actor, teamId: number, input: NewRepository): Promise<CreatedRepository> {
    await teams.access(actor, teamId, "member");
    const installation = await linkedInstallation(db, teamId, input.installationId);
    const body = { name: input.name, private: input.private ?? true, description: input.description, auto_init: input.autoInit ?? false };
    try {
      if (installation.account.type === "Organization") {
        const { data } = await github.asInstallation(installation.id, (o) =>
          o.request("POST /orgs/{org}/repos", { org: installation.account.login, ...body }),
        );
        return { fullName: data.full_name, htmlUrl: data.html_url, defaultBranch: data.default_branch ?? "main" };
      }
      if (actor.userId === null) {
        throw new AppError("user_required", "A personal repository is created as its owner: send X-Octoplex-User");
      }
      if (actor.userId !== installation.account.id) {
        throw new AppError("forbidden", `Only ${installation.account.login} may create repositories on their personal account`);
      }
      const { data } = await github.asUser(actor.userId, (o) => o.request("POST /user/repos", body));
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
