import { Db } from "../db/knex";
import { toBoolean, toNumber } from "./rows";

/** A repository a team may use, with the installation that serves it. */
export interface TeamRepository {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  archived: boolean;
  defaultBranch: string | null;
  installationId: number;
}

/** Where a page starts: after this (installation, repository) pair. */
export interface TeamRepositoryKey {
  installationId: number;
  repositoryId: number;
}

export interface TeamRepositoryFilter {
  /** Case-insensitive substring of the full name, taken literally (no wildcards). */
  q?: string;
  installationId?: number;
  after?: TeamRepositoryKey;
  limit: number;
}

/** `%`, `_` and the escape character itself match only themselves. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function mapRow(row: Record<string, unknown>): TeamRepository {
  const fullName = row.full_name as string;
  const slash = fullName.indexOf("/");
  return {
    id: toNumber(row.repository_id),
    owner: (row.owner as string | null) ?? fullName.slice(0, Math.max(slash, 0)),
    name: (row.name as string | null) ?? fullName.slice(slash + 1),
    fullName,
    private: toBoolean(row.private),
    // Not said yet (an installation webhook names no archived flag): GitHub's default.
    archived: row.archived === null || row.archived === undefined ? false : toBoolean(row.archived),
    defaultBranch: (row.default_branch as string | null) ?? null,
    installationId: toNumber(row.installation_id),
  };
}

/**
 * The stored repositories the team's scope covers, as a query to narrow and select from: every
 * link to an installation that is not suspended, an "all" link's every repository or a list's
 * listed ones. Aliases: ti (the link), i (the installation), ir (the repository), tir (the listing).
 */
export function teamScopedRepositories(db: Db, teamId: number) {
  return (
    db("team_installations as ti")
      .join("installations as i", "i.id", "ti.installation_id")
      .join("installation_repositories as ir", "ir.installation_id", "ti.installation_id")
      // A join rather than EXISTS under OR: Postgres may hash such a subquery over every team's
      // listed rows. The team's id is given as a value, not as ti.team_id: Postgres does not carry
      // ti.team_id = ? into the outer join, and would read every team's rows of the installation.
      .leftJoin("team_installation_repositories as tir", (on) =>
        on.onVal("tir.team_id", "=", teamId).andOn("tir.installation_id", "ir.installation_id").andOn("tir.repository_id", "ir.repository_id"),
      )
      .where("ti.team_id", teamId)
      .whereNull("i.suspended_at")
      .where((scope) => scope.where("ti.repository_scope", "all").orWhereNotNull("tir.repository_id"))
  );
}

/**
 * The repositories a team may use, in (installation id, repository id) order: the primary key of
 * installation_repositories, so each link is one ordered index range and a page reads about
 * `limit` rows however many repositories the team has. Links to suspended installations are left
 * out: their repositories cannot be used until GitHub unsuspends them.
 */
export async function listTeamRepositories(db: Db, teamId: number, filter: TeamRepositoryFilter): Promise<TeamRepository[]> {
  const query = teamScopedRepositories(db, teamId)
    .select("ir.installation_id", "ir.repository_id", "ir.owner", "ir.name", "ir.full_name", "ir.private", "ir.archived", "ir.default_branch")
    // By the link's installation id (equal to the repository's): walking the team's links in
    // primary-key order, then each installation's repositories in its own, gives this order with
    // no sort of the team's every repository (SQLite; Postgres sorts each installation's alone).
    .orderBy([
      { column: "ti.installation_id", order: "asc" },
      { column: "ir.repository_id", order: "asc" },
    ])
    .limit(filter.limit);
  if (filter.installationId !== undefined) query.where("ti.installation_id", filter.installationId);
  if (filter.q) query.whereRaw("lower(ir.full_name) like ? escape '\\'", [`%${escapeLike(filter.q.toLowerCase())}%`]);
  const after = filter.after;
  if (after) {
    query.where((page) =>
      page
        .where("ti.installation_id", ">", after.installationId)
        .orWhere((same) => same.where("ti.installation_id", after.installationId).where("ir.repository_id", ">", after.repositoryId)),
    );
  }
  return (await query).map(mapRow);
}
