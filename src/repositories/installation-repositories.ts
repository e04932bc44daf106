import { Db, Dialect, dialectOf } from "../db/knex";
import { jsonColumnIn, JsonStatement, runStatement, selectJsonRows } from "../db/json-statements";
import { toBoolean, toNumber } from "./rows";

export interface InstallationRepository {
  id: number;
  fullName: string;
  private: boolean;
}

const TABLE = "installation_repositories";

export async function listInstallationRepositories(db: Db, installationId: number): Promise<InstallationRepository[]> {
  const rows = await db(TABLE).where({ installation_id: installationId }).orderBy("full_name");
  return rows.map((row) => ({ id: toNumber(row.repository_id), fullName: row.full_name, private: toBoolean(row.private) }));
}

export async function addInstallationRepositories(
  db: Db,
  installationId: number,
  repositories: InstallationRepository[],
): Promise<void> {
  await addRepositoriesOfInstallations(db, repositories.map((repository) => ({ installationId, repository })));
}

/** Adds (or renames) repositories of several installations at once; each pair must be distinct. */
export async function addRepositoriesOfInstallations(db: Db, entries: RepositoryOfInstallation[]): Promise<void> {
  if (entries.length > 0) await runStatement(db, addRepositoriesStatement(dialectOf(db), entries));
}

export async function removeInstallationRepositories(db: Db, installationId: number, repositoryIds: number[]): Promise<void> {
  const pairs = repositoryIds.map((repositoryId) => ({ installationId, repositoryId }));
  if (pairs.length > 0) await runStatement(db, removeRepositoriesStatement(dialectOf(db), pairs));
}

export async function clearInstallationRepositories(db: Db, installationId: number | number[]): Promise<void> {
  const ids = Array.isArray(installationId) ? installationId : [installationId];
  if (ids.length > 0) await runStatement(db, clearRepositoriesStatement(dialectOf(db), ids));
}

export interface RepositoryOfInstallation {
  installationId: number;
  repository: InstallationRepository;
}

// The same writes as statements, to run in a batch's commit (db/commit-if-holds.ts).

export function addRepositoriesStatement(dialect: Dialect, entries: RepositoryOfInstallation[]): JsonStatement {
  const columns = [
    ["installation_id", "bigint"],
    ["repository_id", "bigint"],
    ["full_name", "text"],
    ["private", "boolean"],
  ] as const;
  return {
    sql:
      `INSERT INTO ${TABLE} (installation_id, repository_id, full_name, private) ${selectJsonRows(dialect, columns)} ` +
      `ON CONFLICT (installation_id, repository_id) DO UPDATE SET full_name = excluded.full_name, private = excluded.private`,
    json: entries.map(({ installationId, repository: r }) => ({
      installation_id: installationId,
      repository_id: r.id,
      full_name: r.fullName,
      private: r.private,
    })),
  };
}

export function removeRepositoriesStatement(
  dialect: Dialect,
  pairs: Array<{ installationId: number; repositoryId: number }>,
): JsonStatement {
  const columns = [
    ["installation_id", "bigint"],
    ["repository_id", "bigint"],
  ] as const;
  return {
    sql:
      `DELETE FROM ${TABLE} WHERE ${jsonColumnIn(dialect, "installation_id", "bigint")} ` +
      `AND (installation_id, repository_id) IN (${selectJsonRows(dialect, columns)})`,
    json: pairs.map((p) => ({ installation_id: p.installationId, repository_id: p.repositoryId })),
  };
}

export function clearRepositoriesStatement(dialect: Dialect, installationIds: number[]): JsonStatement {
  return {
    sql: `DELETE FROM ${TABLE} WHERE ${jsonColumnIn(dialect, "installation_id", "bigint")}`,
    json: installationIds.map((id) => ({ installation_id: id })),
  };
}
