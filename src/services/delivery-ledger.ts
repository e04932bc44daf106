import type { Knex } from "knex";
import { isUniqueViolation } from "../db/knex";
import { DeliveryRecord, hasDelivery, recordDelivery } from "../repositories/webhook-deliveries";

export type Delivery = DeliveryRecord;
export type Outcome = "applied" | "duplicate" | "ignored";

export type DeliveryLedger = (
  delivery: Delivery,
  work: (trx: Knex.Transaction) => Promise<Outcome | void>,
) => Promise<Outcome>;

/**
 * Applies a delivery exactly once: its id is recorded in the same transaction as its effects, so
 * a redelivery of something applied changes nothing, and a failure forgets the id so a
 * redelivery can try again.
 */
export function createDeliveryLedger(db: Knex, now: () => Date): DeliveryLedger {
  return async (delivery, work) => {
    try {
      return await db.transaction(async (trx): Promise<Outcome> => {
        if (!(await recordDelivery(trx, delivery, now()))) return "duplicate";
        return (await work(trx)) || "applied";
      });
    } catch (error) {
      // Two copies of one delivery at the same moment: the loser sees the winner's id. A unique
      // violation raised by the work itself is a failure like any other: nothing was recorded,
      // so rethrow and let GitHub redeliver rather than report a duplicate.
      if (isUniqueViolation(error) && (await hasDelivery(db, delivery.id))) return "duplicate";
      throw error;
    }
  };
}
