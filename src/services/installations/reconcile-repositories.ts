import type { Knex } from "knex";
import { GithubRepository, toRepository } from "../../github/installation-snapshot";
import {
  addInstallationRepositories,
  clearDepartures,
  clearRepositoryTombstones,
  InstallationRepository,
  listInstallationRepositories,
  removeInstallationRepositories,
  StoredRepository,
  toStored,
} from "../../repositories/installation-repositories";
import { isTombstoned } from "../../repositories/installations";
import type { RemovingFromScopes } from "../teams/scope-losses";

/** What a reconcile changed in one installation's repository list. */
export interface RepositoryListChanges {
  installationId: number;
  login: string;
  added: string[];
  removed: string[];
  updated: Array<{ fullName: string; changes: string[] }>;
}

/**
 * Makes the stored list of an installation's repositories what GitHub lists now: missing ones
 * added (a tombstone is cleared, as GitHub's own answer says the repository exists), gone ones
 * removed (teams whose list scope held one are told), changed ones updated in place (link
 * scopes hang on the rows). Undefined when the installation was deleted meanwhile.
 */
export async function reconcileRepositoryList(
  db: Knex,
  installationId: number,
  login: string,
  listed: GithubRepository[],
  removingFromScopes: RemovingFromScopes,
): Promise<RepositoryListChanges | undefined> {
  const remote = listed.map(toRepository);
  return db.transaction(async (trx) => {
    if (await isTombstoned(trx, installationId)) return undefined;
    const stored = new Map((await listInstallationRepositories(trx, installationId)).map((r) => [r.id, r]));
    const remoteIds = new Set(remote.map((r) => r.id));
    const added = remote.filter((r) => !stored.has(r.id));
    const removed = [...stored.values()].filter((r) => !remoteIds.has(r.id));
    const updated = remote.flatMap((r) => {
      const before = stored.get(r.id);
      const changes = before ? differences(before, r) : [];
      return changes.length > 0 ? [{ repository: r, changes }] : [];
    });
    const removedIds = removed.map((r) => r.id);
    await removingFromScopes(trx, [{ installationId, repositoryIds: removedIds }], () => removeInstallationRepositories(trx, installationId, removedIds));
    await clearRepositoryTombstones(trx, added.map((r) => r.id));
    await clearDepartures(trx, installationId, added.map((r) => r.id));
    await addInstallationRepositories(trx, installationId, [...added, ...updated.map((u) => u.repository)]);
    return {
      installationId,
      login,
      added: added.map((r) => r.fullName),
      removed: removed.map((r) => r.fullName),
      updated: updated.map((u) => ({ fullName: u.repository.fullName, changes: u.changes })),
    };
  });
}

export function hasRepositoryChanges(c: RepositoryListChanges): boolean {
  return c.added.length + c.removed.length + c.updated.length > 0;
}

function differences(stored: StoredRepository, remote: InstallationRepository): string[] {
  const r = toStored(remote);
  const changes: string[] = [];
  if (stored.fullName !== r.fullName) changes.push(`renamed from ${stored.fullName}`);
  if (stored.private !== r.private) changes.push(r.private ? "private" : "public");
  if (r.archived !== null && stored.archived !== r.archived) changes.push(r.archived ? "archived" : "unarchived");
  if (r.defaultBranch !== null && stored.defaultBranch !== r.defaultBranch) {
    changes.push(`default branch ${stored.defaultBranch ?? "unknown"} → ${r.defaultBranch}`);
  }
  return changes;
}
