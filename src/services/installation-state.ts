import type { Db } from "../db/knex";
import { appendAuditEvents, ActorType } from "../repositories/audit-events";
import {
  addInstallationRepositories,
  clearInstallationRepositories,
  InstallationRepository,
} from "../repositories/installation-repositories";
import {
  addTombstone,
  deleteInstallationRow,
  findInstallation,
  InstallationSnapshot,
  isTombstoned,
  upsertInstallation,
} from "../repositories/installations";
import { deleteInstallationTokens } from "../repositories/installation-tokens";
import { deleteLinksOfInstallation, listLinks } from "../repositories/links";
import type { EventRecorder } from "./platform-events";

export type Actor = { type: ActorType; id: number | null };

export type UnlinkReason = "installation_deleted" | "reconcile";

/**
 * Stores what GitHub says an installation is now. Returns false (and stores nothing) for an
 * installation already deleted: GitHub never reuses installation ids, so a late or reordered
 * delivery must not bring it back.
 */
export async function applySnapshot(
  db: Db,
  snapshot: InstallationSnapshot,
  now: Date,
  repositories?: InstallationRepository[],
  options: { ignoreOrder?: boolean } = {},
): Promise<boolean> {
  if (await isTombstoned(db, snapshot.id)) return false;
  await upsertInstallation(db, snapshot, now, options);
  if (snapshot.repositorySelection === "all") {
    // With access to every repository there is no list to keep; GitHub answers per repository.
    await clearInstallationRepositories(db, snapshot.id);
  } else if (repositories) {
    await addInstallationRepositories(db, snapshot.id, repositories);
  }
  return true;
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
  const teamIds = (await listLinks(db, { installationId })).map((l) => l.teamId);
  await appendAuditEvents(db, teamIds.map((teamId) => ({ teamId, installationId, actor, action, data })), now);
  await events.record(db, [{ type: action, subject: `installation:${installationId}`, data: { installationId, teamIds, ...data } }]);
}

/**
 * Removes an installation, its repositories and every team link, and tombstones its id. One
 * audit event per team that lost it. Runs inside the caller's transaction.
 */
export async function removeInstallation(
  db: Db,
  installationId: number,
  reason: UnlinkReason,
  actor: Actor,
  now: Date,
  events: EventRecorder,
): Promise<{ existed: boolean; teamIds: number[] }> {
  const existed = Boolean(await findInstallation(db, installationId));
  const teamIds = await deleteLinksOfInstallation(db, installationId);
  await deleteInstallationRow(db, installationId);
  await deleteInstallationTokens(db, installationId);
  await addTombstone(db, installationId, now);
  await appendAuditEvents(
    db,
    teamIds.map((teamId) => ({ teamId, installationId, actor, action: "team.installation.unlinked", data: { reason } })),
    now,
  );
  await events.record(db, [
    { type: "installation.deleted", subject: `installation:${installationId}`, data: { installationId, teamIds, reason } },
    ...teamIds.map((teamId) => ({
      type: "team.installation.unlinked" as const,
      teamId,
      subject: `installation:${installationId}`,
      data: { teamId, installationId, reason },
    })),
  ]);
  return { existed, teamIds };
}
