import {
  addInstallationRepositories,
  deleteRepository,
  InstallationRepository,
  isRepositoryTombstoned,
  removeInstallationRepositories,
  updateRepositoryEverywhere,
} from "../../repositories/installation-repositories";
import { findInstallation } from "../../repositories/installations";
import type { Delivery, DeliveryLedger, Outcome } from "../events/delivery-ledger";
import type { GithubEvent, TeamEvents } from "../events/team-events";

export interface RepositoryEventsDeps {
  ledger: DeliveryLedger;
  now: () => Date;
  /** The `repository` event is also routed to the teams that subscribe to it, in the same transaction. */
  teamEvents: Pick<TeamEvents, "fanOutIn">;
}

/** A repository as a `repository` webhook describes it, with its owner's account id. */
export interface RepositoryChange {
  repository: InstallationRepository;
  ownerId: number;
}

/**
 * What GitHub's `repository` webhooks mean for the repositories installations reach. GitHub sends
 * no installation_repositories event when a repository appears in, or leaves, an installation on
 * every repository: these events are how such lists stay true.
 */
export function createRepositoryEvents({ ledger, now, teamEvents }: RepositoryEventsDeps) {
  // One delivery is recorded once: its routing happens in the transaction of its own work, and
  // first, so that the teams whose scope lists the repository still receive what happened to it
  // (a deletion takes it out of every scope).
  const routeFirst = async (trx: Parameters<typeof teamEvents.fanOutIn>[0], routed: GithubEvent | undefined) => {
    if (routed) await teamEvents.fanOutIn(trx, routed);
  };

  return {
    /** Deleted on GitHub: gone from every installation, for good (ids are never reused). */
    deleted(delivery: Delivery, repositoryId: number, routed?: GithubEvent) {
      return ledger(delivery, async (trx) => {
        await routeFirst(trx, routed);
        await deleteRepository(trx, repositoryId, now());
      });
    },

    /**
     * created, renamed, archived, unarchived, privatized, publicized, edited, transferred: the
     * repository as it is now, for the installation the delivery is for. It is stored where it is
     * already, and added to that installation when it reaches every repository of the owner; a
     * repository transferred to another account leaves it.
     */
    changed(delivery: Delivery, installationId: number, { repository, ownerId }: RepositoryChange, routed?: GithubEvent) {
      return ledger(delivery, async (trx): Promise<Outcome> => {
        await routeFirst(trx, routed);
        // A late delivery about a deleted repository must not bring it back.
        if (await isRepositoryTombstoned(trx, repository.id)) return "ignored";
        const installation = await findInstallation(trx, installationId);
        if (!installation) return "ignored";
        const owned = installation.account.id === ownerId;
        if (!owned) {
          await removeInstallationRepositories(trx, installationId, [repository.id]);
          await updateRepositoryEverywhere(trx, repository);
          return "applied";
        }
        await updateRepositoryEverywhere(trx, repository);
        if (installation.repositorySelection === "all") await addInstallationRepositories(trx, installationId, [repository]);
        return "applied";
      });
    },
  };
}

export type RepositoryEvents = ReturnType<typeof createRepositoryEvents>;
