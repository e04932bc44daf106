import type { Knex } from "knex";
import type { Dialect } from "../../db/knex";
import {
  GithubEvent,
  githubEventRows,
  insertEventsStatement,
  insertGithubEvents,
  insertPayloadsStatement,
  lockStripesCondition,
} from "../../repositories/github-event-outbox";
import type { BatchStep, Delivery, DeliveryLedger, Outcome, Planned } from "./delivery-ledger";

export type { GithubEvent };

export interface TeamEventsDeps {
  ledger: DeliveryLedger;
  now: () => Date;
  /** How long an event is retried; undefined when there is no platform to send to (nothing is routed). */
  retryForMs: number | undefined;
}

/**
 * GitHub's deliveries routed to the teams that subscribe to them, as platform events
 * `github.<event>`: written in the transaction that records the delivery, so a redelivery adds
 * nothing and nothing acknowledged is lost. Transport-free: no Probot here.
 */
export function createTeamEvents({ ledger, now, retryForMs }: TeamEventsDeps) {
  const giveUpAt = (at: Date) => new Date(at.getTime() + (retryForMs ?? 0));

  // Deliveries in a row share a few statements; a batch of them alone is one round trip.
  const fanOut: BatchStep<GithubEvent> = {
    async apply(trx, items) {
      const at = now();
      await insertGithubEvents(trx, items, at, giveUpAt(at));
      return items.map(() => "applied");
    },
    plan(dialect: Dialect, entries): Planned {
      const at = now();
      const rows = githubEventRows(
        entries.map((e) => e.item),
        at,
        giveUpAt(at),
      );
      const lock = lockStripesCondition(dialect, rows);
      return { conditions: lock ? [lock] : [], writes: [insertPayloadsStatement(dialect, rows), insertEventsStatement(dialect, rows)] };
    },
  };

  return {
    /** Whether deliveries are routed at all (PLATFORM_WEBHOOK_URL set). */
    enabled: retryForMs !== undefined,

    /** A delivery only routed (no other work): recorded and fanned out once. */
    received(delivery: Delivery, event: GithubEvent): Promise<Outcome> {
      if (retryForMs === undefined) return Promise.resolve("ignored");
      return ledger(delivery, { step: fanOut, item: event });
    },

    /** The fan-out inside the transaction of a delivery that does other work too (`repository`). */
    async fanOutIn(trx: Knex.Transaction, event: GithubEvent): Promise<void> {
      if (retryForMs === undefined) return;
      const at = now();
      await insertGithubEvents(trx, [event], at, giveUpAt(at));
    },
  };
}

export type TeamEvents = ReturnType<typeof createTeamEvents>;
