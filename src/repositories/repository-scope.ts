import { Db } from "../db/knex";
import { teamScopedRepositories } from "./team-repositories";

/**
 * Whether a link's list scope holds the repository of that full name (case-insensitive, as GitHub
 * names are): it must be one of the installation's stored repositories and listed for the team.
 */
export async function listScopeHolds(db: Db, teamId: number, installationId: number, fullName: string): Promise<boolean> {
  const row = await db("team_installation_repositories as s")
    .join("installation_repositories as r", function () {
      this.on("r.installation_id", "=", "s.installation_id").andOn("r.repository_id", "=", "s.repository_id");
    })
    .where({ "s.team_id": teamId, "s.installation_id": installationId })
    .whereRaw("lower(r.full_name) = ?", [fullName.toLowerCase()])
    .first("s.repository_id");
  return row !== undefined;
}

/**
 * Whether any of the team's links to an installation that is not suspended covers the stored
 * repository of that full name (case-insensitive): an "all" link, or a list that holds it.
 */
export async function teamScopeHolds(db: Db, teamId: number, fullName: string): Promise<boolean> {
  const row = await teamScopedRepositories(db, teamId).whereRaw("lower(ir.full_name) = ?", [fullName.toLowerCase()]).first("ir.repository_id");
  return row !== undefined;
}
