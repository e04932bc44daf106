import { Db, Dialect } from "../db/knex";
import { JsonStatement } from "../db/json-statements";
import { toNumber } from "./rows";

/** Which repositories of its installation a link covers: every one (now and later), or these ids. */
export type RepositoryScope = "all" | number[];

const LINKS = "team_installations";
const LISTED = "team_installation_repositories";

/** Scopes of a team's links, by installation id; a link absent from the map does not exist. */
export async function scopesOfTeam(db: Db, teamId: number, installationId?: number): Promise<Map<number, RepositoryScope>> {
  const links = db(LINKS).where({ team_id: teamId }).select("installation_id", "repository_scope");
  if (installationId !== undefined) links.where({ installation_id: installationId });
  const listed = db(LISTED).where({ team_id: teamId }).orderBy("repository_id").select("installation_id", "repository_id");
  if (installationId !== undefined) listed.where({ installation_id: installationId });
  const scopes = new Map<number, RepositoryScope>();
  for (const row of await links) scopes.set(toNumber(row.installation_id), row.repository_scope === "list" ? [] : "all");
  for (const row of await listed) {
    const scope = scopes.get(toNumber(row.installation_id));
    if (Array.isArray(scope)) scope.push(toNumber(row.repository_id));
  }
  return scopes;
}

/** Replaces a link's scope; the link must exist. */
export async function writeScope(db: Db, teamId: number, installationId: number, scope: RepositoryScope): Promise<void> {
  const link = { team_id: teamId, installation_id: installationId };
  await db(LINKS).where(link).update({ repository_scope: scope === "all" ? "all" : "list" });
  await db(LISTED).where(link).delete();
  const ids = scope === "all" ? [] : [...new Set(scope)];
  // Copied from the installation's rows: a repository removed since it was checked is left out, as
  // its removal would have taken it out of the scope anyway. Chunks stay under SQLite's parameter limit.
  for (let i = 0; i < ids.length; i += 300) {
    const chunk = ids.slice(i, i + 300);
    await db.raw(
      `INSERT INTO ${LISTED} (team_id, installation_id, repository_id) ` +
        `SELECT CAST(? AS integer), installation_id, repository_id FROM installation_repositories ` +
        `WHERE installation_id = ? AND repository_id IN (${chunk.map(() => "?").join(", ")})`,
      [teamId, installationId, ...chunk],
    );
  }
}

/** Those of `ids` that are not repositories of the installation in the database. */
export async function repositoryIdsOutside(db: Db, installationId: number, ids: number[]): Promise<number[]> {
  const unique = [...new Set(ids)];
  const known = new Set<number>();
  for (let i = 0; i < unique.length; i += 500) {
    const found = await db("installation_repositories")
      .where({ installation_id: installationId })
      .whereIn("repository_id", unique.slice(i, i + 500))
      .pluck("repository_id");
    for (const id of found) known.add(toNumber(id));
  }
  return unique.filter((id) => !known.has(id)).sort((a, b) => a - b);
}

/** Repositories leaving an installation (every installation, without one). */
export interface LeavingRepositories {
  installationId?: number;
  repositoryIds: number[];
}

/** The links whose list holds any of the leaving repositories, each once, in (team, installation) order. */
export async function linksListing(db: Db, leaving: LeavingRepositories): Promise<Array<{ teamId: number; installationId: number }>> {
  const found = new Map<string, { teamId: number; installationId: number }>();
  for (let i = 0; i < leaving.repositoryIds.length; i += 500) {
    const query = db(LISTED).whereIn("repository_id", leaving.repositoryIds.slice(i, i + 500)).distinct("team_id", "installation_id");
    if (leaving.installationId !== undefined) query.where({ installation_id: leaving.installationId });
    for (const row of await query) {
      const link = { teamId: toNumber(row.team_id), installationId: toNumber(row.installation_id) };
      found.set(`${link.teamId}:${link.installationId}`, link);
    }
  }
  return [...found.values()].sort((a, b) => a.teamId - b.teamId || a.installationId - b.installationId);
}

/**
 * A condition for a batch's planned writes (db/commit-if-holds.ts): no link lists any of these
 * (installation, repository) pairs. When one does, its removal changes a team's scope, which is
 * told to the team: the batch then goes the way that can (knex, in services).
 */
export function noneListedCondition(dialect: Dialect, pairs: Array<{ installationId: number; repositoryId: number }>): JsonStatement {
  const sql =
    dialect === "postgres"
      ? `SELECT NOT EXISTS (SELECT 1 FROM jsonb_to_recordset({json}::jsonb) AS r(installation_id bigint, repository_id bigint) ` +
        `CROSS JOIN LATERAL (SELECT 1 FROM ${LISTED} t WHERE t.installation_id = r.installation_id AND t.repository_id = r.repository_id LIMIT 1) hit)`
      : `SELECT NOT EXISTS (SELECT 1 FROM json_each({json}) j JOIN ${LISTED} t ` +
        `ON t.installation_id = j.value->>'installation_id' AND t.repository_id = j.value->>'repository_id')`;
  return { sql, json: pairs.map((p) => ({ installation_id: p.installationId, repository_id: p.repositoryId })) };
}
