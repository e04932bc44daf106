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

/** One audit event per team linked to the installation, so each team's history shows the change. */
export async function auditLinkedTeams(
  db: Db,
  installationId: number,
  actor: Actor,
  action: string,
  data: Record<string, unknown>,
  now: Date,
): Promise<void> {
  const links = await listLinks(db, { installationId });
  await appendAuditEvents(
    db,
    links.map((l) => ({ teamId: l.teamId, installationId, actor, action, data })),
    now,
  );
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
  return { existed, teamIds };
}
