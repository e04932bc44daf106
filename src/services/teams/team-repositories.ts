import type { Knex } from "knex";
import { AppError } from "../../errors";
import { listTeamRepositories, TeamRepository, TeamRepositoryKey } from "../../repositories/team-repositories";
import type { Actor, Teams } from "./teams";

export interface TeamRepositoryPage {
  repositories: TeamRepository[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface TeamRepositoryQuery {
  q?: string;
  installationId?: number;
  cursor?: string;
  limit: number;
}

// The cursor is the sort key of the last repository returned, so a page never shifts when a
// repository is added or removed elsewhere in the list while someone pages through it.
const PREFIX = "repos:";
const encodeCursor = (r: TeamRepository) => Buffer.from(`${PREFIX}${r.installationId}:${r.id}`).toString("base64url");
function decodeCursor(cursor: string): TeamRepositoryKey {
  const match = /^repos:([1-9]\d{0,15}):([1-9]\d{0,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  const key = match && { installationId: Number(match[1]), repositoryId: Number(match[2]) };
  if (!key || !Number.isSafeInteger(key.installationId) || !Number.isSafeInteger(key.repositoryId)) {
    throw new AppError("invalid_input", "cursor is not one this API returned", { details: [{ path: "cursor", message: "is not one this API returned" }] });
  }
  return key;
}

export type TeamRepositories = ReturnType<typeof createTeamRepositories>;

/** What a team may use across its links and their scopes, cursor-paginated. */
export function createTeamRepositories(db: Knex) {
  return async function teamRepositories(teams: Teams, actor: Actor, teamId: number, query: TeamRepositoryQuery): Promise<TeamRepositoryPage> {
    await teams.access(actor, teamId, "member");
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await listTeamRepositories(db, teamId, { q: query.q, installationId: query.installationId, after, limit: query.limit + 1 });
    const repositories = rows.slice(0, query.limit);
    return { repositories, nextCursor: rows.length > query.limit ? encodeCursor(repositories[repositories.length - 1]) : null };
  };
}
