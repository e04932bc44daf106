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
  return (await recordDeliveries(db, [delivery], now)).has(delivery.id);
}

/** recordDelivery for many: the ids that were not recorded before (a repeated id counts once). */
export async function recordDeliveries(db: Db, deliveries: DeliveryRecord[], now: Date): Promise<Set<string>> {
  const rows = new Map<string, Record<string, unknown>>();
  for (const d of deliveries) {
    if (rows.has(d.id)) continue;
    rows.set(d.id, { id: d.id, event: d.event, action: d.action, installation_id: d.installationId, processed_at: dbTime(now) });
  }
  // In id order, so that two writers of overlapping batches wait for each other instead of deadlocking.
  const sorted = [...rows.values()].sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1));
  const inserted = new Set<string>();
  for (let i = 0; i < sorted.length; i += 150) {
    // ON CONFLICT DO NOTHING rather than catching the violation: on Postgres a failed insert would
    // abort the caller's transaction, and a concurrent copy waits here for the first to commit.
    const returned = await db("webhook_deliveries")
      .insert(sorted.slice(i, i + 150))
      .onConflict("id")
      .ignore()
      .returning("id");
    for (const row of returned) inserted.add(typeof row === "object" ? (row as { id: string }).id : String(row));
  }
  return inserted;
}

export async function hasDelivery(db: Db, id: string): Promise<boolean> {
  return Boolean(await db("webhook_deliveries").where({ id }).first("id"));
}
