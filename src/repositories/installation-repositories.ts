import { Db, Dialect, dialectOf } from "../db/knex";
import { jsonColumnIn, JsonStatement, runStatement, selectJsonRows } from "../db/json-statements";
import { dbTime, toBoolean, toNumber } from "./rows";

/**
 * A repository as a source describes it. Owner and name default to the parts of the full name;
 * archived and defaultBranch left out (or null) mean "not said": a stored value is kept.
 */
export interface InstallationRepository {
  id: number;
  fullName: string;
  private: boolean;
  owner?: string;
  name?: string;
  archived?: boolean | null;
  defaultBranch?: string | null;
}

/** A repository as stored: null where no source has said yet. */
export interface StoredRepository {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
  archived: boolean | null;
  defaultBranch: string | null;
}

const TABLE = "installation_repositories";
const TOMBSTONES = "repository_tombstones";
const DEPARTURES = "repository_departures";

export function mapRow(row: Record<string, unknown>): StoredRepository {
  const fullName = row.full_name as string;
  const [owner, name] = splitFullName(fullName);
  return {
    id: toNumber(row.repository_id),
    owner: (row.owner as string | null) ?? owner,
    name: (row.name as string | null) ?? name,
    fullName,
    private: toBoolean(row.private),
    archived: row.archived === null || row.archived === undefined ? null : toBoolean(row.archived),
    defaultBranch: (row.default_branch as string | null) ?? null,
  };
}

function splitFullName(fullName: string): [string, string] {
  const slash = fullName.indexOf("/");
  return slash < 0 ? ["", fullName] : [fullName.slice(0, slash), fullName.slice(slash + 1)];
}

/** The repository with every field a source left out filled as storing it would. */
export function toStored(r: InstallationRepository): StoredRepository {
  const [owner, name] = splitFullName(r.fullName);
  return {
    id: r.id,
    owner: r.owner ?? owner,
    name: r.name ?? name,
    fullName: r.fullName,
    private: r.private,
    archived: r.archived ?? null,
    defaultBranch: r.defaultBranch ?? null,
  };
}

export async function listInstallationRepositories(db: Db, installationId: number): Promise<StoredRepository[]> {
  const rows = await db(TABLE).where({ installation_id: installationId }).orderBy("full_name");
  return rows.map(mapRow);
}

export async function addInstallationRepositories(
  db: Db,
  installationId: number,
  repositories: InstallationRepository[],
): Promise<void> {
  await addRepositoriesOfInstallations(db, repositories.map((repository) => ({ installationId, repository })));
}

/** Adds (or updates in place) repositories of several installations at once; each pair must be distinct. */
export async function addRepositoriesOfInstallations(db: Db, entries: RepositoryOfInstallation[]): Promise<void> {
  if (entries.length > 0) await runStatement(db, addRepositoriesStatement(dialectOf(db), entries));
}

export async function removeInstallationRepositories(db: Db, installationId: number, repositoryIds: number[]): Promise<void> {
  const pairs = repositoryIds.map((repositoryId) => ({ installationId, repositoryId }));
  if (pairs.length > 0) await runStatement(db, removeRepositoriesStatement(dialectOf(db), pairs));
}

/** Updates a repository wherever it is stored; rows of no installation are added. */
export async function updateRepositoryEverywhere(db: Db, repository: InstallationRepository): Promise<number> {
  const r = toStored(repository);
  const update: Record<string, unknown> = { owner: r.owner, name: r.name, full_name: r.fullName, private: r.private };
  if (r.archived !== null) update.archived = r.archived;
  if (r.defaultBranch !== null) update.default_branch = r.defaultBranch;
  return db(TABLE).where({ repository_id: r.id }).update(update);
}

/** Removes a deleted repository from every installation and keeps its id from coming back. */
export async function deleteRepository(db: Db, repositoryId: number, deletedAt: Date): Promise<number> {
  const removed = await db(TABLE).where({ repository_id: repositoryId }).delete();
  await db(TOMBSTONES).insert({ repository_id: repositoryId, deleted_at: dbTime(deletedAt) }).onConflict("repository_id").ignore();
  return removed;
}

export async function isRepositoryTombstoned(db: Db, repositoryId: number): Promise<boolean> {
  return Boolean(await db(TOMBSTONES).where({ repository_id: repositoryId }).first());
}

/** GitHub lists these again (reconcile): they were not deleted after all, or came back. */
export async function clearRepositoryTombstones(db: Db, repositoryIds: number[]): Promise<number> {
  let cleared = 0;
  for (let i = 0; i < repositoryIds.length; i += 500) {
    cleared += await db(TOMBSTONES).whereIn("repository_id", repositoryIds.slice(i, i + 500)).delete();
  }
  return cleared;
}

/** Transferred out of the installation's account: a late event must not add it back there. */
export async function recordDeparture(db: Db, installationId: number, repositoryId: number, departedAt: Date): Promise<void> {
  await db(DEPARTURES).insert({ installation_id: installationId, repository_id: repositoryId, departed_at: dbTime(departedAt) }).onConflict(["installation_id", "repository_id"]).ignore();
}

export async function hasDeparted(db: Db, installationId: number, repositoryId: number): Promise<boolean> {
  return Boolean(await db(DEPARTURES).where({ installation_id: installationId, repository_id: repositoryId }).first());
}

/** GitHub says now that the installation reaches these (transferred back, or listed): no longer departed. */
export async function clearDepartures(db: Db, installationId: number, repositoryIds: number[]): Promise<number> {
  let cleared = 0;
  for (let i = 0; i < repositoryIds.length; i += 500) {
    cleared += await db(DEPARTURES).where({ installation_id: installationId }).whereIn("repository_id", repositoryIds.slice(i, i + 500)).delete();
  }
  return cleared;
}

export interface RepositoryOfInstallation {
  installationId: number;
  repository: InstallationRepository;
}

// The same writes as statements, to run in a batch's commit (db/commit-if-holds.ts).

const ADDED = [
  ["installation_id", "bigint"],
  ["repository_id", "bigint"],
  ["owner", "text"],
  ["name", "text"],
  ["full_name", "text"],
  ["private", "boolean"],
  ["archived", "boolean"],
  ["default_branch", "text"],
] as const;

/**
 * Inserts or updates in place (never delete and re-add: link scopes reference the rows). A
 * tombstoned repository is left out, and one departed from that installation (transferred away),
 * so a late delivery does not bring either back.
 */
export function addRepositoriesStatement(dialect: Dialect, entries: RepositoryOfInstallation[]): JsonStatement {
  const names = ADDED.map(([c]) => c).join(", ");
  const kept = (c: string) => `${c} = coalesce(excluded.${c}, ${TABLE}.${c})`;
  return {
    sql:
      `INSERT INTO ${TABLE} (${names}) SELECT ${names} FROM (${selectJsonRows(dialect, ADDED)}) AS added ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${TOMBSTONES} t WHERE t.repository_id = added.repository_id) ` +
      `AND NOT EXISTS (SELECT 1 FROM ${DEPARTURES} d WHERE d.installation_id = added.installation_id AND d.repository_id = added.repository_id) ` +
      `ON CONFLICT (installation_id, repository_id) DO UPDATE SET owner = excluded.owner, name = excluded.name, ` +
      `full_name = excluded.full_name, private = excluded.private, ${kept("archived")}, ${kept("default_branch")}`,
    json: entries.map(({ installationId, repository }) => {
      const r = toStored(repository);
      return {
        installation_id: installationId,
        repository_id: r.id,
        owner: r.owner,
        name: r.name,
        full_name: r.fullName,
        private: r.private,
        archived: r.archived,
        default_branch: r.defaultBranch,
      };
    }),
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
