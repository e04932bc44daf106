import { Db, Dialect, dialectOf } from "../db/knex";
import { JsonStatement, noneInTable, runStatement, selectJsonRows } from "../db/json-statements";
import { dbTime } from "./rows";

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
  const insert = insertDeliveriesStatement(dialectOf(db), deliveries, now);
  // ON CONFLICT DO NOTHING rather than catching the violation: on Postgres a failed insert would
  // abort the caller's transaction, and a concurrent copy waits here for the first to commit.
  const rows = await runStatement(db, { sql: `${insert.sql} ON CONFLICT (id) DO NOTHING RETURNING id`, json: insert.json });
  return new Set(rows.map((row) => String(row.id)));
}

const COLUMNS = [
  ["id", "text"],
  ["event", "text"],
  ["action", "text"],
  ["installation_id", "bigint"],
  ["processed_at", "timestamptz"],
] as const;

/** Records deliveries known to be new: one recorded before fails the statement. A repeated id counts once. */
export function insertDeliveriesStatement(dialect: Dialect, deliveries: DeliveryRecord[], now: Date): JsonStatement {
  const rows = new Map<string, Record<string, unknown>>();
  for (const d of deliveries) {
    if (rows.has(d.id)) continue;
    rows.set(d.id, { id: d.id, event: d.event, action: d.action, installation_id: d.installationId, processed_at: dbTime(now) });
  }
  return {
    sql: `INSERT INTO ${TABLE} (${COLUMNS.map(([c]) => c).join(", ")}) ${selectJsonRows(dialect, COLUMNS)}`,
    // In id order, so that two writers of overlapping batches wait for each other instead of deadlocking.
    json: [...rows.values()].sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1)),
  };
}

/** A condition (db/commit-if-holds.ts): none of these delivery ids is recorded. */
export function noneRecordedCondition(dialect: Dialect, ids: string[]): JsonStatement {
  return {
    sql: noneInTable(dialect, TABLE, "id", "text"),
    json: ids.map((id) => ({ id })),
  };
}

export async function hasDelivery(db: Db, id: string): Promise<boolean> {
  return Boolean(await db(TABLE).where({ id }).first("id"));
}
