import { Db, Dialect, dialectOf, isPostgres } from "../db/knex";
import { JsonStatement, noneInTable, runStatement, selectJsonRows } from "../db/json-statements";
import { dbTime, parseJson, toDate, toDateOrNull, toNumber } from "./rows";

export type AccountType = "Organization" | "User" | "Enterprise";

/** An installation as GitHub describes it (webhook payload or REST answer), mapped to our names. */
export interface InstallationSnapshot {
  id: number;
  account: { id: number; login: string; type: AccountType | string; avatarUrl: string | null };
  targetType: string;
  repositorySelection: "all" | "selected";
  permissions: Record<string, string>;
  events: string[];
  suspendedAt: Date | null;
  suspendedBy: string | null;
  /** GitHub's own updated_at: orders deliveries that arrive out of order. */
  githubUpdatedAt: Date | null;
}

export interface Installation extends InstallationSnapshot {
  createdAt: Date;
  updatedAt: Date;
}

const TABLE = "installations";

export function mapInstallationRow(row: Record<string, unknown>): Installation {
  return {
    id: toNumber(row.id),
    account: {
      id: toNumber(row.account_id),
      login: row.account_login as string,
      type: row.account_type as string,
      avatarUrl: (row.account_avatar_url as string | null) ?? null,
    },
    targetType: row.target_type as string,
    repositorySelection: row.repository_selection as "all" | "selected",
    permissions: parseJson(row.permissions, {}),
    events: parseJson(row.events, []),
    suspendedAt: toDateOrNull(row.suspended_at),
    suspendedBy: (row.suspended_by as string | null) ?? null,
    githubUpdatedAt: toDateOrNull(row.github_updated_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

function toRow(s: InstallationSnapshot, now: Date) {
  return {
    account_id: s.account.id,
    account_login: s.account.login,
    account_type: s.account.type,
    account_avatar_url: s.account.avatarUrl,
    target_type: s.targetType,
    repository_selection: s.repositorySelection,
    permissions: JSON.stringify(s.permissions),
    events: JSON.stringify(s.events),
    suspended_at: dbTime(s.suspendedAt),
    suspended_by: s.suspendedBy,
    github_updated_at: dbTime(s.githubUpdatedAt),
    updated_at: dbTime(now),
  };
}

export async function findInstallation(db: Db, id: number): Promise<Installation | undefined> {
  const row = await db(TABLE).where({ id }).first();
  return row ? mapInstallationRow(row) : undefined;
}

/**
 * Holds the installation's row until the transaction ends (Postgres; SQLite's single writer holds
 * everything already). A link being added takes a key-share lock on it (the foreign key), so
 * once this returns no link of it can appear or vanish before the caller commits.
 */
export async function lockInstallation(db: Db, id: number): Promise<void> {
  if (isPostgres(db)) await db(TABLE).where({ id }).forUpdate().first("id");
}

export async function listInstallations(db: Db): Promise<Installation[]> {
  const rows = await db(TABLE).orderBy("id");
  return rows.map(mapInstallationRow);
}

/**
 * Inserts or refreshes an installation in one statement (safe under concurrent deliveries).
 * A snapshot older than the stored one (by GitHub's updated_at) changes nothing, unless
 * `ignoreOrder` says it is GitHub's current answer rather than a delivery that may be late.
 */
export async function upsertInstallation(
  db: Db,
  snapshot: InstallationSnapshot,
  now: Date,
  options: { ignoreOrder?: boolean } = {},
): Promise<void> {
  await upsertInstallations(db, [snapshot], now, options);
}

/**
 * upsertInstallation for many installations in one statement, each row guarded on its own stored
 * updated_at. The ids must be distinct (a statement cannot update one row twice); rows go in id
 * order so that concurrent writers lock them in the same order.
 */
export async function upsertInstallations(
  db: Db,
  snapshots: InstallationSnapshot[],
  now: Date,
  options: { ignoreOrder?: boolean } = {},
): Promise<void> {
  if (snapshots.length > 0) await runStatement(db, upsertInstallationsStatement(dialectOf(db), snapshots, now, options));
}

const UPSERTED = [
  ["id", "bigint"],
  ["account_id", "bigint"],
  ["account_login", "text"],
  ["account_type", "text"],
  ["account_avatar_url", "text"],
  ["target_type", "text"],
  ["repository_selection", "text"],
  ["permissions", "text"],
  ["events", "text"],
  ["suspended_at", "timestamptz"],
  ["suspended_by", "text"],
  ["github_updated_at", "timestamptz"],
  ["created_at", "timestamptz"],
  ["updated_at", "timestamptz"],
] as const;
const REPLACED = UPSERTED.map(([c]) => c).filter((c) => c !== "id" && c !== "created_at" && c !== "github_updated_at");

/** upsertInstallations as a statement, to run in a batch's commit (db/commit-if-holds.ts). */
export function upsertInstallationsStatement(
  dialect: Dialect,
  snapshots: InstallationSnapshot[],
  now: Date,
  { ignoreOrder = false }: { ignoreOrder?: boolean } = {},
): JsonStatement {
  const rows = [...snapshots].sort((a, b) => a.id - b.id).map((s) => ({ id: s.id, ...toRow(s, now), created_at: dbTime(now) }));
  const set = [
    ...REPLACED.map((c) => `${c} = excluded.${c}`),
    // A snapshot without GitHub's updated_at must not erase the one stored: it orders later deliveries.
    `github_updated_at = coalesce(excluded.github_updated_at, ${TABLE}.github_updated_at)`,
  ].join(", ");
  const guard = ignoreOrder
    ? ""
    : ` WHERE excluded.github_updated_at IS NULL OR ${TABLE}.github_updated_at IS NULL OR ${TABLE}.github_updated_at <= excluded.github_updated_at`;
  return {
    sql: `INSERT INTO ${TABLE} (${UPSERTED.map(([c]) => c).join(", ")}) ${selectJsonRows(dialect, UPSERTED)} ON CONFLICT (id) DO UPDATE SET ${set}${guard}`,
    json: rows,
  };
}

export async function setSuspension(
  db: Db,
  id: number,
  suspension: { suspendedAt: Date | null; suspendedBy: string | null },
  now: Date,
): Promise<number> {
  return db(TABLE)
    .where({ id })
    .update({
      suspended_at: dbTime(suspension.suspendedAt),
      suspended_by: suspension.suspendedBy,
      updated_at: dbTime(now),
    });
}

export async function renameAccount(db: Db, accountId: number, login: string, now: Date): Promise<number> {
  return db(TABLE).where({ account_id: accountId }).update({ account_login: login, updated_at: dbTime(now) });
}

export async function deleteInstallationRow(db: Db, id: number): Promise<number> {
  return db(TABLE).where({ id }).delete();
}

export async function addTombstone(db: Db, installationId: number, deletedAt: Date): Promise<void> {
  await db("installation_tombstones")
    .insert({ installation_id: installationId, deleted_at: dbTime(deletedAt) })
    .onConflict("installation_id")
    .ignore();
}

export async function isTombstoned(db: Db, installationId: number): Promise<boolean> {
  return Boolean(await db("installation_tombstones").where({ installation_id: installationId }).first());
}

/** A condition (db/commit-if-holds.ts): none of these installations was deleted. */
export function noneDeletedCondition(dialect: Dialect, installationIds: number[]): JsonStatement {
  return {
    sql: noneInTable(dialect, "installation_tombstones", "installation_id", "bigint"),
    json: installationIds.map((id) => ({ installation_id: id })),
  };
}

/** Which of these installations were deleted (one query for a whole batch of deliveries). */
export async function tombstonedAmong(db: Db, installationIds: number[]): Promise<Set<number>> {
  const found = new Set<number>();
  for (let i = 0; i < installationIds.length; i += 500) {
    const rows = await db("installation_tombstones").whereIn("installation_id", installationIds.slice(i, i + 500)).select("installation_id");
    for (const row of rows) found.add(toNumber(row.installation_id));
  }
  return found;
}
