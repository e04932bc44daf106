import type { Db } from "../db/knex";
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
export async function addRepositoriesOfInstallations(
  db: Db,
  entries: Array<{ installationId: number; repository: InstallationRepository }>,
): Promise<void> {
  const rows = entries.map(({ installationId, repository: r }) => ({
    installation_id: installationId,
    repository_id: r.id,
    full_name: r.fullName,
    private: r.private,
  }));
  // SQLite caps bound variables per statement; 200 rows × 4 columns stays well under it.
  for (let i = 0; i < rows.length; i += 200) {
    await db(TABLE)
      .insert(rows.slice(i, i + 200))
      .onConflict(["installation_id", "repository_id"])
      .merge(["full_name", "private"]);
  }
}

export async function removeInstallationRepositories(db: Db, installationId: number, repositoryIds: number[]): Promise<void> {
  for (let i = 0; i < repositoryIds.length; i += 500) {
    await db(TABLE)
      .where({ installation_id: installationId })
      .whereIn("repository_id", repositoryIds.slice(i, i + 500))
      .delete();
  }
}

export async function clearInstallationRepositories(db: Db, installationId: number | number[]): Promise<void> {
  const ids = Array.isArray(installationId) ? installationId : [installationId];
  for (let i = 0; i < ids.length; i += 500) await db(TABLE).whereIn("installation_id", ids.slice(i, i + 500)).delete();
}
