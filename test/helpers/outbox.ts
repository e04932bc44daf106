import type { Knex } from "knex";
import { isPostgres } from "../../src/db/knex";
import { listOutboxEvents, OutboxEvent } from "../../src/repositories/outbox";
import type { PlatformReceiver } from "./platform-receiver";

/**
 * Makes every insert into outbox_events fail (a trigger, on SQLite and Postgres) until the
 * returned function is called: the write of an event fails inside its caller's transaction.
 */
export async function failOutboxInserts(db: Knex): Promise<() => Promise<void>> {
  if (isPostgres(db)) {
    await db.raw(
      "CREATE OR REPLACE FUNCTION octoplex_test_outbox_fails() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected outbox failure'; END $$ LANGUAGE plpgsql",
    );
    await db.raw("CREATE TRIGGER octoplex_test_outbox_fails BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION octoplex_test_outbox_fails()");
    return async () => {
      await db.raw("DROP TRIGGER IF EXISTS octoplex_test_outbox_fails ON outbox_events");
    };
  }
  await db.raw("CREATE TRIGGER octoplex_test_outbox_fails BEFORE INSERT ON outbox_events BEGIN SELECT RAISE(ABORT, 'injected outbox failure'); END");
  return async () => {
    await db.raw("DROP TRIGGER IF EXISTS octoplex_test_outbox_fails");
  };
}

/** The outbox as [type, teamId, data], oldest first: what a test usually compares. */
export async function outboxSummary(db: Knex): Promise<Array<[string, number | null, Record<string, unknown>]>> {
  return (await listOutboxEvents(db)).map((e) => [e.type, e.teamId, e.payload.data as Record<string, unknown>]);
}

/**
 * Per ordering key (a team, or an installation for events without one): no request for an event
 * arrived before every earlier event of that key had been accepted.
 */
export function expectInOrderPerKey(events: OutboxEvent[], receiver: Pick<PlatformReceiver, "received">): void {
  const keyOf = new Map(events.map((e) => [e.messageId, e.orderingKey]));
  const rank = new Map<string, number>();
  const perKey = new Map<string, string[]>();
  for (const e of events) {
    const list = perKey.get(e.orderingKey) ?? [];
    rank.set(e.messageId, list.length);
    list.push(e.messageId);
    perKey.set(e.orderingKey, list);
  }
  const acceptedCount = new Map<string, number>();
  const acceptedIds = new Set<string>();
  const violations: string[] = [];
  for (const r of receiver.received) {
    const key = keyOf.get(r.webhookId)!;
    const done = acceptedCount.get(key) ?? 0;
    // Its predecessors must all have been accepted already (a retry of an accepted one is fine).
    if (rank.get(r.webhookId)! > done) violations.push(`${key}: event #${rank.get(r.webhookId)} sent after only ${done} accepted`);
    if (r.status !== null && r.status < 300 && !acceptedIds.has(r.webhookId)) {
      acceptedIds.add(r.webhookId);
      acceptedCount.set(key, done + 1);
    }
  }
  expect(violations).toEqual([]);
}
