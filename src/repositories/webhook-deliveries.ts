import type { Db } from "../db/knex";
import { dbTime } from "./rows";

export interface DeliveryRecord {
  id: string;
  event: string;
  action: string | null;
  installationId: number | null;
}

/**
 * Records a delivery id; false when it was already recorded. Meant as the first statement of the
 * transaction that applies the delivery, so a rollback forgets the id and a redelivery runs again.
 */
export async function recordDelivery(db: Db, delivery: DeliveryRecord, now: Date): Promise<boolean> {
  // ON CONFLICT DO NOTHING rather than catching the violation: on Postgres a failed insert would
  // abort the caller's transaction, and a concurrent copy waits here for the first to commit.
  const inserted = await db("webhook_deliveries")
    .insert({
      id: delivery.id,
      event: delivery.event,
      action: delivery.action,
      installation_id: delivery.installationId,
      processed_at: dbTime(now),
    })
    .onConflict("id")
    .ignore()
    .returning("id");
  return inserted.length > 0;
}

export async function hasDelivery(db: Db, id: string): Promise<boolean> {
  return Boolean(await db("webhook_deliveries").where({ id }).first("id"));
}
