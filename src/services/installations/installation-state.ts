import { Db, Dialect, dialectOf } from "../../db/knex";
import { JsonStatement, runStatement } from "../../db/json-statements";
import { appendAuditEventsForLinkedTeams, ActorType } from "../../repositories/audit-events";
import {
  addRepositoriesStatement,
  InstallationRepository,
  RepositoryOfInstallation,
  removeRepositoriesStatement,
} from "../../repositories/installation-repositories";
import {
  addTombstone,
  deleteInstallationRow,
  findInstallation,
  InstallationSnapshot,
  lockInstallation,
  tombstonedAmong,
  upsertInstallationsStatement,
} from "../../repositories/installations";
import { deleteInstallationTokens } from "../../repositories/installation-tokens";
import { deleteLinksOfInstallation, listTeamIdsOfInstallation } from "../../repositories/links";
import type { EventRecorder } from "../events/platform-events";

export type Actor = { type: ActorType; id: number | null };

export type UnlinkReason = "installation_deleted" | "reconcile";

/** What one delivery says of an installation: its state now, and repositories added or removed. */
export interface InstallationChange {
  snapshot: InstallationSnapshot;
  added: InstallationRepository[];
  removedIds: number[];
}

/**
 * Stores what GitHub says an installation is now. Returns false (and stores nothing) for an
 * installation already deleted: GitHub never reuses installation ids, so a late or reordered
 * delivery must not bring it back.
 */
export async function applySnapshot(
  db: Db,
  snapshot: InstallationSnapshot,
  now: Date,
  repositories: InstallationRepository[] = [],
  options: { ignoreOrder?: boolean } = {},
): Promise<boolean> {
  const [stored] = await applyInstallationChanges(db, [{ snapshot, added: repositories, removedIds: [] }], now, options);
  return stored;
}

/**
 * applySnapshot for many deliveries, in a handful of statements whatever their number, with the
 * result of applying them one by one in order. Per change: false for a deleted installation
 * (nothing stored).
 */
export async function applyInstallationChanges(
  db: Db,
  changes: InstallationChange[],
  now: Date,
  options: { ignoreOrder?: boolean } = {},
): Promise<boolean[]> {
  const tombstoned = await tombstonedAmong(db, [...new Set(changes.map((c) => c.snapshot.id))]);
  const live = changes.filter((c) => !tombstoned.has(c.snapshot.id));
  const writes = planInstallationWrites(live, options);
  for (const statement of installationWriteStatements(dialectOf(db), writes, now, options)) await runStatement(db, statement);
  return changes.map((c) => !tombstoned.has(c.snapshot.id));
}

/**
 * What applying these changes one by one, in order, amounts to; every change's installation must
 * be live (not deleted). The change's repositories are added, then its removed ones removed.
 */
export interface InstallationWrites {
  /** Upserts in order: an installation appears once in each. */
  layers: InstallationSnapshot[][];
  removed: Array<{ installationId: number; repositoryId: number }>;
  added: RepositoryOfInstallation[];
}

export function planInstallationWrites(live: InstallationChange[], options: { ignoreOrder?: boolean } = {}): InstallationWrites {
  const snapshotsOf = new Map<number, InstallationSnapshot[]>();
  for (const { snapshot } of live) snapshotsOf.set(snapshot.id, [...(snapshotsOf.get(snapshot.id) ?? []), snapshot]);
  // A statement updates a row once: the k-th snapshot of an installation goes in the k-th upsert,
  // whose per-row updated_at guard sees the one before it, as one-by-one would. When every
  // snapshot of it carries GitHub's updated_at, one-by-one ends on the last of the newest (if that
  // is new enough for the stored row), so that one alone is upserted.
  const layers: InstallationSnapshot[][] = [];
  for (const snapshots of snapshotsOf.values()) {
    const upserts = snapshots.every((s) => s.githubUpdatedAt) ? [lastOfNewest(snapshots, options)] : snapshots;
    upserts.forEach((snapshot, k) => (layers[k] ??= []).push(snapshot));
  }

  // The repository lists, folded per installation: the last word on a repository (added or
  // removed) wins. An installation on every repository lists them too (installation.created,
  // a selection widened to all): the list is what it reaches. Never cleared and re-added: link
  // scopes hang on the rows.
  const lists = new Map<number, Map<number, InstallationRepository | null>>();
  for (const { snapshot, added, removedIds } of live) {
    let list = lists.get(snapshot.id);
    if (!list) lists.set(snapshot.id, (list = new Map()));
    for (const r of added) list.set(r.id, r);
    for (const id of removedIds) list.set(id, null);
  }
  const writes: InstallationWrites = { layers, removed: [], added: [] };
  for (const [installationId, list] of lists) {
    for (const [repositoryId, repository] of list) {
      if (repository) writes.added.push({ installationId, repository });
      else writes.removed.push({ installationId, repositoryId });
    }
  }
  return writes;
}

/** The writes as statements, to run in this order. */
export function installationWriteStatements(
  dialect: Dialect,
  writes: InstallationWrites,
  now: Date,
  options: { ignoreOrder?: boolean } = {},
): JsonStatement[] {
  const statements = writes.layers.map((layer) => upsertInstallationsStatement(dialect, layer, now, options));
  if (writes.removed.length > 0) statements.push(removeRepositoriesStatement(dialect, writes.removed));
  if (writes.added.length > 0) statements.push(addRepositoriesStatement(dialect, writes.added));
  return statements;
}

/** Whether the statements touch no row twice, so that they can run as one (db/commit-if-holds.ts). */
export function touchesRowsOnce(writes: InstallationWrites): boolean {
  return writes.layers.length <= 1;
}

function lastOfNewest(snapshots: InstallationSnapshot[], { ignoreOrder }: { ignoreOrder?: boolean }): InstallationSnapshot {
  if (ignoreOrder) return snapshots[snapshots.length - 1];
  return snapshots.reduce((kept, s) => (s.githubUpdatedAt!.getTime() >= kept.githubUpdatedAt!.getTime() ? s : kept));
}

/**
 * A suspension or unsuspension: one audit event per linked team (each team's history shows it)
 * and one event for the platform naming those teams.
 */
export async function recordSuspension(
  db: Db,
  installationId: number,
  suspended: boolean,
  actor: Actor,
  data: Record<string, unknown>,
  now: Date,
  events: EventRecorder,
): Promise<void> {
  const action = suspended ? "installation.suspended" : "installation.unsuspended";
  await lockInstallation(db, installationId);
  const teamIds = await listTeamIdsOfInstallation(db, installationId);
  await appendAuditEventsForLinkedTeams(db, installationId, { actor, action, data }, now);
  await events.record(db, [{ type: action, subject: `installation:${installationId}`, data: { installationId, teamIds, ...data } }]);
}

/**
 * Removes an installation, its repositories and every team link, and tombstones its id. One
 * audit event and one platform event per team that lost it, written by the database from the
 * links before they go (an installation can serve 10,000 teams). Runs inside the caller's transaction.
 */
export async function removeInstallation(
  db: Db,
  installationId: number,
  reason: UnlinkReason,
  actor: Actor,
  now: Date,
  events: EventRecorder,
): Promise<{ existed: boolean; teamIds: number[] }> {
  await lockInstallation(db, installationId);
  const existed = Boolean(await findInstallation(db, installationId));
  const teamIds = await listTeamIdsOfInstallation(db, installationId);
  await events.record(db, [
    { type: "installation.deleted", subject: `installation:${installationId}`, data: { installationId, teamIds, reason } },
  ], now);
  await appendAuditEventsForLinkedTeams(db, installationId, { actor, action: "team.installation.unlinked", data: { reason } }, now);
  await events.recordForLinkedTeams(db, installationId, { type: "team.installation.unlinked", data: { installationId, reason } }, now);
  await deleteLinksOfInstallation(db, installationId);
  await deleteInstallationRow(db, installationId);
  await deleteInstallationTokens(db, installationId);
  await addTombstone(db, installationId, now);
  return { existed, teamIds };
}
