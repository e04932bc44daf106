import { Db, Dialect, dialectOf } from "../db/knex";
import { JsonStatement, runStatement, selectJsonRows } from "../db/session";
import { dbTime, toBoolean } from "./rows";

const TABLE = "webhook_deliveries";

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
  if (deliveries.length === 0) return new Set();
  const rows = await runStatement(db, recordDeliveriesStatement(dialectOf(db), deliveries, now));
  return new Set(readRecorded(rows).keys());
}

/**
 * recordDeliveries as a statement. Its rows are the deliveries not recorded before, each saying
 * whether its installation was deleted (the first thing a batch needs to know); read them with
 * readRecorded.
 */
export function recordDeliveriesStatement(dialect: Dialect, deliveries: DeliveryRecord[], now: Date): JsonStatement {
  const rows = new Map<string, Record<string, unknown>>();
  for (const d of deliveries) {
    if (rows.has(d.id)) continue;
    rows.set(d.id, { id: d.id, event: d.event, action: d.action, installation_id: d.installationId, processed_at: dbTime(now) });
  }
  const columns = [
    ["id", "text"],
    ["event", "text"],
    ["action", "text"],
    ["installation_id", "bigint"],
    ["processed_at", "timestamptz"],
  ] as const;
  // ON CONFLICT DO NOTHING rather than catching the violation: on Postgres a failed insert would
  // abort the caller's transaction, and a concurrent copy waits here for the first to commit.
  return {
    sql:
      `INSERT INTO ${TABLE} (id, event, action, installation_id, processed_at) ${selectJsonRows(dialect, columns)} ` +
      `ON CONFLICT (id) DO NOTHING RETURNING id, EXISTS (SELECT 1 FROM installation_tombstones t ` +
      `WHERE t.installation_id = ${TABLE}.installation_id) AS installation_deleted`,
    // In id order, so that two writers of overlapping batches wait for each other instead of deadlocking.
    json: [...rows.values()].sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1)),
  };
}

/** The rows of recordDeliveriesStatement: each newly recorded id, and whether its installation was deleted. */
export function readRecorded(rows: Array<Record<string, unknown>>): Map<string, boolean> {
  return new Map(rows.map((row) => [String(row.id), toBoolean(row.installation_deleted)]));
}

export async function hasDelivery(db: Db, id: string): Promise<boolean> {
  return Boolean(await db(TABLE).where({ id }).first("id"));
}
