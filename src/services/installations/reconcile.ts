import type { Knex } from "knex";
import { GithubInstallation, GithubRepository, toInstallationSnapshot } from "../../github/installation-snapshot";
import { Installation, InstallationSnapshot, isTombstoned, listInstallations } from "../../repositories/installations";
import { Actor, applySnapshot, recordSuspension, removeInstallation } from "./installation-state";
import type { EventRecorder } from "../events/platform-events";
import { hasRepositoryChanges, reconcileRepositoryList, RepositoryListChanges } from "./reconcile-repositories";
import { createScopeLosses } from "../teams/scope-losses";

const SYSTEM: Actor = { type: "system", id: null };

export interface ReconcileReport {
  added: Array<{ id: number; login: string }>;
  removed: Array<{ id: number; login: string; teamIds: number[] }>;
  updated: Array<{ id: number; login: string; changes: string[] }>;
  unchanged: number;
  /** Listed by GitHub but deleted by an earlier webhook: a stale listing must not revive them. */
  skipped: number[];
  /** Installations whose repository list changed. */
  repositories: RepositoryListChanges[];
  /** Installations whose repositories GitHub did not list (their list is left as it was). */
  repositoryFailures: Array<{ id: number; login: string; message: string }>;
}

export type ReconcileProgress =
  | { phase: "listing"; fetched: number }
  | { phase: "applying"; done: number; total: number };

export interface ReconcileDeps {
  db: Knex;
  now: () => Date;
  listGithubInstallations: (onPage?: (fetched: number) => void) => Promise<GithubInstallation[]>;
  events: EventRecorder;
  /** GET /installation/repositories as the installation, every page; absent: repositories are not reconciled. */
  listGithubRepositories?: (installationId: number) => Promise<GithubRepository[]>;
}

/** Makes the database agree with GitHub's list of the app's installations. */
export function createReconcileService({ db, now, listGithubInstallations, events, listGithubRepositories }: ReconcileDeps) {
  const removingFromScopes = createScopeLosses({ events, now, actor: "system" });
  async function reconcileRepositories(snapshot: InstallationSnapshot, report: ReconcileReport): Promise<void> {
    // GitHub hands a suspended installation no token: its list waits for the unsuspend.
    if (!listGithubRepositories || snapshot.suspendedAt) return;
    const login = snapshot.account.login;
    let listed: GithubRepository[];
    try {
      listed = await listGithubRepositories(snapshot.id);
    } catch (error) {
      report.repositoryFailures.push({ id: snapshot.id, login, message: (error as Error).message });
      return;
    }
    const changes = await reconcileRepositoryList(db, snapshot.id, login, listed, removingFromScopes);
    if (changes && hasRepositoryChanges(changes)) report.repositories.push(changes);
  }

  return async function reconcile(onProgress?: (p: ReconcileProgress) => void): Promise<ReconcileReport> {
    // The whole list first: a failed page must not read as "GitHub no longer has these".
    const remote = (await listGithubInstallations((fetched) => onProgress?.({ phase: "listing", fetched }))).map(
      toInstallationSnapshot,
    );
    const local = new Map((await listInstallations(db)).map((i) => [i.id, i]));
    const remoteIds = new Set(remote.map((s) => s.id));
    const gone = [...local.values()].filter((i) => !remoteIds.has(i.id));
    const report: ReconcileReport = { added: [], removed: [], updated: [], unchanged: 0, skipped: [], repositories: [], repositoryFailures: [] };
    const total = remote.length + gone.length;
    let done = 0;
    const step = () => onProgress?.({ phase: "applying", done: ++done, total });

    for (const snapshot of remote) {
      const stored = local.get(snapshot.id);
      const changes = stored ? differences(stored, snapshot) : [];
      if (stored && changes.length === 0) {
        report.unchanged++;
        await reconcileRepositories(snapshot, report);
      } else {
        // One transaction per installation: a long run makes progress and holds no long lock.
        const applied = await db.transaction(async (trx) => {
          if (!stored && (await isTombstoned(trx, snapshot.id))) return false;
          if (!(await applySnapshot(trx, snapshot, now(), undefined, { ignoreOrder: true }))) return false;
          if (stored && Boolean(stored.suspendedAt) !== Boolean(snapshot.suspendedAt)) {
            // The suspend/unsuspend webhook was missed; the teams' history should still show it.
            await recordSuspension(trx, snapshot.id, Boolean(snapshot.suspendedAt), SYSTEM, { source: "reconcile" }, now(), events);
          }
          return true;
        });
        const entry = { id: snapshot.id, login: snapshot.account.login };
        if (!applied) report.skipped.push(snapshot.id);
        else if (stored) report.updated.push({ ...entry, changes });
        else report.added.push(entry);
        if (applied) await reconcileRepositories(snapshot, report);
      }
      step();
    }
    for (const installation of gone) {
      const { teamIds } = await db.transaction((trx) =>
        removeInstallation(trx, installation.id, "reconcile", SYSTEM, now(), events),
      );
      report.removed.push({ id: installation.id, login: installation.account.login, teamIds });
      step();
    }
    return report;
  };
}

export type Reconcile = ReturnType<typeof createReconcileService>;

function differences(stored: Installation, remote: InstallationSnapshot): string[] {
  const changes: string[] = [];
  if (stored.account.login !== remote.account.login) {
    changes.push(`login ${stored.account.login} → ${remote.account.login}`);
  }
  if (Boolean(stored.suspendedAt) !== Boolean(remote.suspendedAt)) {
    changes.push(remote.suspendedAt ? "suspended" : "unsuspended");
  }
  if (stored.repositorySelection !== remote.repositorySelection) {
    changes.push(`repository selection ${stored.repositorySelection} → ${remote.repositorySelection}`);
  }
  if (canonical(stored.permissions) !== canonical(remote.permissions)) changes.push("permissions");
  if (canonical([...stored.events].sort()) !== canonical([...remote.events].sort())) changes.push("events");
  if (stored.account.avatarUrl !== remote.account.avatarUrl) changes.push("avatar");
  return changes;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  return JSON.stringify(Object.keys(record).sort().map((k) => [k, record[k]]));
}
