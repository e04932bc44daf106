import type { InstallationRepository } from "../../repositories/installation-repositories";
import { InstallationSnapshot, isTombstoned, noneDeletedCondition, renameAccount, setSuspension } from "../../repositories/installations";
import { deleteInstallationTokens } from "../../repositories/installation-tokens";
import { deleteUserGrant } from "../../repositories/user-grants";
import type { BatchStep, Delivery, DeliveryLedger } from "../events/delivery-ledger";
import {
  applyInstallationChanges,
  applySnapshot,
  InstallationChange,
  installationWriteStatements,
  planInstallationWrites,
  touchesRowsOnce,
  recordSuspension,
  removeInstallation,
} from "./installation-state";
import type { EventRecorder } from "../events/platform-events";
import { noneListedCondition } from "../../repositories/link-scopes";
import { createScopeLosses } from "../teams/scope-losses";

export interface InstallationEventsDeps {
  ledger: DeliveryLedger;
  now: () => Date;
  events: EventRecorder;
}

/** What GitHub's installation-level webhooks mean for our tables. Transport-free: no Probot here. */
export function createInstallationEvents({ ledger, now, events }: InstallationEventsDeps) {
  const removingFromScopes = createScopeLosses({ events, now });
  const github = { type: "github" as const, id: null };

  // The deliveries that only say what an installation is now (the bulk of GitHub's traffic) are
  // applied together, a few statements per batch of deliveries rather than a few per delivery.
  const changes: BatchStep<InstallationChange> = {
    async apply(trx, items) {
      // A repository removed from the installation leaves the teams' list scopes: they are told.
      const leaving = items.filter((i) => i.removedIds.length > 0).map((i) => ({ installationId: i.snapshot.id, repositoryIds: i.removedIds }));
      const stored = await removingFromScopes(trx, leaving, () => applyInstallationChanges(trx, items, now()));
      return stored.map((s) => (s ? "applied" : "ignored"));
    },
    plan(dialect, entries) {
      // The delivery's installation is the change's for every event that carries one.
      if (entries.some((e) => e.delivery.installationId !== e.item.snapshot.id)) return undefined;
      const writes = planInstallationWrites(entries.map((e) => e.item));
      if (!touchesRowsOnce(writes)) return undefined;
      const conditions = [noneDeletedCondition(dialect, [...new Set(entries.map((e) => e.item.snapshot.id))])];
      // A removal that changes a team's scope is told to the team, which only apply() does.
      if (writes.removed.length > 0) conditions.push(noneListedCondition(dialect, writes.removed));
      return { conditions, writes: installationWriteStatements(dialect, writes, now()) };
    },
  };
  const change = (snapshot: InstallationSnapshot, added: InstallationRepository[] = [], removedIds: number[] = []) => ({
    step: changes,
    item: { snapshot, added, removedIds },
  });

  return {
    created(delivery: Delivery, snapshot: InstallationSnapshot, repositories: InstallationRepository[]) {
      return ledger(delivery, change(snapshot, repositories));
    },

    deleted(delivery: Delivery, installationId: number) {
      return ledger(delivery, async (trx) => {
        await removeInstallation(trx, installationId, "installation_deleted", github, now(), events);
      });
    },

    suspended(delivery: Delivery, snapshot: InstallationSnapshot, suspendedBy: string | null) {
      return ledger(delivery, async (trx) => {
        if (!(await applySnapshot(trx, snapshot, now()))) return "ignored";
        // Set explicitly: a snapshot that lost the updated_at race must not leave it active.
        const suspendedAt = snapshot.suspendedAt ?? now();
        await setSuspension(trx, snapshot.id, { suspendedAt, suspendedBy }, now());
        // GitHub refuses a suspended installation's tokens; do not hand out cached ones.
        await deleteInstallationTokens(trx, snapshot.id);
        await recordSuspension(trx, snapshot.id, true, github, { suspendedBy }, now(), events);
      });
    },

    unsuspended(delivery: Delivery, snapshot: InstallationSnapshot, repositories: InstallationRepository[] = []) {
      return ledger(delivery, async (trx) => {
        if (!(await applySnapshot(trx, snapshot, now(), repositories))) return "ignored";
        await setSuspension(trx, snapshot.id, { suspendedAt: null, suspendedBy: null }, now());
        await recordSuspension(trx, snapshot.id, false, github, {}, now(), events);
      });
    },

    /**
     * new_permissions_accepted, and any other event that carries the whole installation. The
     * repositories it may carry are stored (added or updated, none removed: the list says what
     * the installation reaches, not what it lost).
     */
    refreshed(delivery: Delivery, snapshot: InstallationSnapshot, repositories: InstallationRepository[] = []) {
      return ledger(delivery, change(snapshot, repositories));
    },

    repositoriesChanged(
      delivery: Delivery,
      snapshot: InstallationSnapshot,
      added: InstallationRepository[],
      removedIds: number[],
    ) {
      return ledger(delivery, change(snapshot, added, removedIds));
    },

    accountRenamed(delivery: Delivery, installationId: number, account: { id: number; login: string }) {
      return ledger(delivery, async (trx) => {
        if (await isTombstoned(trx, installationId)) return "ignored";
        await renameAccount(trx, account.id, account.login, now());
      });
    },

    authorizationRevoked(delivery: Delivery, githubUserId: number) {
      return ledger(delivery, async (trx) => {
        await deleteUserGrant(trx, githubUserId);
      });
    },
  };
}

export type InstallationEvents = ReturnType<typeof createInstallationEvents>;
