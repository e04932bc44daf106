import type { Knex } from "knex";
import type { ProbotOctokit } from "probot";
import { AppError } from "../../errors";
import { repositoryInTeamScope } from "../teams/team-installation";

/** Runs GitHub calls with the credential that creates the repository (installation or user). */
export type AsCreator = <T>(work: (octokit: ProbotOctokit) => Promise<T>) => Promise<T>;

export interface FromTemplate {
  /** "owner/name" of the template repository. */
  template: string;
  includeAllBranches: boolean;
  owner: string;
  name: string;
  description?: string;
  private: boolean;
}

const statusOf = (e: unknown) => ((e as { name?: string }).name === "HttpError" ? (e as { status?: number }).status : undefined);

function outsideScope(template: string): AppError {
  return new AppError("forbidden", `The template ${template} is neither in the team's repository scope nor a public template repository`, {
    details: { outside: { repositories: [template] } },
  });
}

/**
 * A template the team may use: one in its repository scope, or a public template repository.
 * GitHub is asked about it with the creating credential, so a private repository is refused
 * before anything is generated, and one the credential cannot read (404) reads as out of reach
 * without telling whether it exists. Not a template: a 400 saying so, rather than GitHub's 422.
 */
export async function checkTemplate(db: Knex, teamId: number, template: string, as: AsCreator): Promise<void> {
  const [owner, repo] = template.split("/");
  const inScope = await repositoryInTeamScope(db, teamId, owner, repo);
  let found: { private: boolean; is_template?: boolean } | undefined;
  try {
    found = (await as((o) => o.request("GET /repos/{owner}/{repo}", { owner, repo }))).data;
  } catch (error) {
    if (statusOf(error) !== 404 && statusOf(error) !== 403) throw error;
  }
  if (!found) {
    if (!inScope) throw outsideScope(template);
    throw new AppError("forbidden", `The template ${template} is in the team's scope, but GitHub does not let the creating account's credential read it`, {
      details: { outside: { repositories: [template] } },
    });
  }
  if (found.private && !inScope) throw outsideScope(template);
  if (found.is_template !== true) {
    const message = `${template} is not a template repository; an admin of it can mark it as one in its settings`;
    throw new AppError("invalid_input", message, { details: [{ path: "template", message }] });
  }
}

/** POST /repos/{template_owner}/{template_repo}/generate: GitHub copies the template into a new repository. */
export async function generateFromTemplate(as: AsCreator, request: FromTemplate) {
  const [templateOwner, templateRepo] = request.template.split("/");
  try {
    const { data } = await as((o) =>
      o.request("POST /repos/{template_owner}/{template_repo}/generate", {
        template_owner: templateOwner,
        template_repo: templateRepo,
        owner: request.owner,
        name: request.name,
        description: request.description,
        private: request.private,
        include_all_branches: request.includeAllBranches,
      }),
    );
    return data;
  } catch (error) {
    // Checked a moment ago: the template left the credential's reach meanwhile.
    if (statusOf(error) === 404) throw new AppError("forbidden", `GitHub did not let the creating account's credential read the template ${request.template}`, { details: { outside: { repositories: [request.template] } } });
    throw error;
  }
}
