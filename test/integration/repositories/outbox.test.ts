import { isPostgres } from "../../../src/db/knex";
import {
  insertOutboxEvents,
  insertOutboxEventsForLinkedTeams,
  listOutboxEvents,
  newMessageId,
  ORDERING_LOCK_STRIPES,
} from "../../../src/repositories/outbox";
import { deleteUnreferencedPayloads } from "../../../src/repositories/github-event-outbox";
import { listDeliverable } from "../../../src/repositories/outbox-dispatch";
import { describeEachDatabase, indexNames, postgresOnly } from "../../helpers/databases";
import { minutesAfterNow, NOW, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";
import { explain } from "../../helpers/query-plan";

describeEachDatabase("outbox repository", ({ db, kind }) => {
  // What only Postgres has: concurrent writers and advisory locks.
  const onPostgres = postgresOnly(kind, "advisory locks and planner statistics are Postgres's; SQLite has one writer");
  const occurredAt = "2026-11-20T12:00:00.000Z";

  test("insertOutboxEventsForLinkedTeams writes one pending event per linked team, in team order, each payload valid JSON naming its own message id", async () => {
    await seedInstallation(db(), 1);
    await seedInstallation(db(), 2);
    const teams = await seedTeams(db(), 3);
    await seedLinks(db(), 1, [teams[2], teams[0]]);
    await seedLinks(db(), 2, [teams[1]]);

    const data = { installationId: 1, reason: 'a "quoted" \\ reason' };
    await insertOutboxEventsForLinkedTeams(db(), 1, { type: "team.installation.unlinked", occurredAt, data }, NOW, minutesAfterNow(60));

    const events = await listOutboxEvents(db());
    expect(events.map((e) => [e.teamId, e.orderingKey, e.status, e.attempts])).toEqual([
      [teams[0].id, `team:${teams[0].id}`, "pending", 0],
      [teams[2].id, `team:${teams[2].id}`, "pending", 0],
    ]);
    for (const e of events) {
      expect(e.messageId).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(e.payload).toEqual({ id: e.messageId, type: "team.installation.unlinked", occurredAt, data: { teamId: e.teamId, ...data } });
      expect(e.nextAttemptAt).toEqual(NOW);
      expect(e.giveUpAt).toEqual(minutesAfterNow(60));
    }
    expect(new Set(events.map((e) => e.messageId)).size).toBe(2);
  });

  test("insertOutboxEventsForLinkedTeams with empty data still writes valid JSON, and nothing for an installation without links", async () => {
    await seedInstallation(db(), 1);
    await seedInstallation(db(), 2);
    const [team] = await seedTeams(db(), 1);
    await seedLinks(db(), 1, [team]);

    await insertOutboxEventsForLinkedTeams(db(), 1, { type: "installation.suspended", occurredAt, data: {} }, NOW, minutesAfterNow(60));
    await insertOutboxEventsForLinkedTeams(db(), 2, { type: "installation.suspended", occurredAt, data: {} }, NOW, minutesAfterNow(60));

    const events = await listOutboxEvents(db());
    expect(events.map((e) => e.payload.data)).toEqual([{ teamId: team.id }]);
  });

  test("message ids are distinct: two statements' 500 events for the same teams and 500 made in the process", async () => {
    await seedInstallation(db(), 1);
    const teams = await seedTeams(db(), 500);
    await seedLinks(db(), 1, teams);
    await insertOutboxEventsForLinkedTeams(db(), 1, { type: "installation.suspended", occurredAt, data: {} }, NOW, minutesAfterNow(60));
    await insertOutboxEventsForLinkedTeams(db(), 1, { type: "installation.unsuspended", occurredAt, data: {} }, NOW, minutesAfterNow(60));
    const made = Array.from({ length: 500 }, () => ({ messageId: newMessageId(), type: "installation.unsuspended", orderingKey: "installation:1", teamId: null, payload: {} }));
    await insertOutboxEvents(db(), made, NOW, minutesAfterNow(60));

    const ids = (await listOutboxEvents(db())).map((e) => e.messageId);
    expect(ids).toHaveLength(1_500);
    for (const id of ids) expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(1_500);
  });

  onPostgres("events for 300 teams hold at most ORDERING_LOCK_STRIPES advisory locks until commit (Postgres)", async () => {
    await seedInstallation(db(), 1);
    await seedLinks(db(), 1, await seedTeams(db(), 300));
    const held = await db().transaction(async (trx) => {
      await insertOutboxEventsForLinkedTeams(trx, 1, { type: "installation.suspended", occurredAt, data: {} }, NOW, minutesAfterNow(60));
      const one = [{ messageId: newMessageId(), type: "installation.unsuspended", orderingKey: "installation:1", teamId: null, payload: {} }];
      await insertOutboxEvents(trx, one, NOW, minutesAfterNow(60));
      return Number((await trx.raw("select count(*) as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()")).rows[0].n);
    });
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(ORDERING_LOCK_STRIPES);
  });

  onPostgres("a second writer of a team's events waits for the first to commit, so the team's ids follow commit order (Postgres)", async () => {
    const event = (type: string) => [{ messageId: newMessageId(), type, orderingKey: "team:7", teamId: null, payload: {} }];
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstWrote!: () => void;
    const firstHasWritten = new Promise<void>((resolve) => (firstWrote = resolve));
    const first = db().transaction(async (trx) => {
      await insertOutboxEvents(trx, event("first"), NOW, minutesAfterNow(60));
      firstWrote();
      await firstMayCommit;
      order.push("first commits");
    });
    await firstHasWritten;
    const second = db().transaction(async (trx) => {
      await insertOutboxEvents(trx, event("second"), NOW, minutesAfterNow(60));
      order.push("second wrote");
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    releaseFirst();
    await Promise.all([first, second]);

    expect(order).toEqual(["first commits", "second wrote"]);
    expect((await listOutboxEvents(db())).map((e) => e.type)).toEqual(["first", "second"]);
  });

  test("the dispatcher's query finds pending events through the indexes of pending events", async () => {
    const plan = await explain(db(), (trx) => listDeliverable(trx, NOW, { keys: 10, perTeam: 5, chain: 3 }), { withoutSeqScan: true });
    expect(plan).toMatch(/outbox_events_pending_ordering_key_id_index/);
    // No read of the whole table, for the keys' first events or for the events that follow them.
    expect(plan).not.toMatch(TABLE_SCAN);
  });

  test("behind 20,000 delivered events the dispatcher reads the pending ones only: each key's first through the index of pending events by (key, id)", async () => {
    const events = Array.from({ length: 21_000 }, (_, i) => ({ messageId: newMessageId(), type: "t", orderingKey: `team:${i % 5_000}`, teamId: null, payload: {} }));
    await insertOutboxEvents(db(), events, NOW, minutesAfterNow(60));
    await db()("outbox_events").where("id", "<=", (await db()("outbox_events").max({ m: "id" }))[0].m - 1_000).update({ status: "delivered" });
    // What autovacuum does after such a wave of updates; SQLite has no visibility map to set.
    await db().raw(isPostgres(db()) ? "VACUUM ANALYZE outbox_events" : "ANALYZE");

    const batch = { keys: 100, perTeam: 100, chain: 1 };
    const plan = await explain(db(), (trx) => listDeliverable(trx, NOW, batch));
    expect(plan).toMatch(/outbox_events_pending_ordering_key_id_index/);
    expect(plan).not.toMatch(TABLE_SCAN);
    expect(await listDeliverable(db(), NOW, batch)).toHaveLength(100);
  });

  onPostgres("right after 1,500 events land on statistics that say none is pending, a poll looks at a few events per event it returns, not at every pending one", async () => {
    const event = (i: number, status: string) => ({ message_id: newMessageId(), type: "t", ordering_key: `team:${i}`, payload: "{}", status, next_attempt_at: NOW, give_up_at: NOW, created_at: NOW });
    for (let b = 0; b < 20_000; b += 1_000) await db()("outbox_events").insert(Array.from({ length: 1_000 }, (_, i) => event(b + i, "delivered")));
    await db().raw("ANALYZE outbox_events");
    await db()("outbox_events").insert(Array.from({ length: 1_500 }, (_, i) => event(i, "pending")));

    const plan = await explain(db(), (trx) => listDeliverable(trx, NOW, { keys: 100, perTeam: 100, chain: 1 }), { analyze: true });
    const removed = [...plan.matchAll(/Rows Removed by (?:Join )?Filter: (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(plan).toMatch(/rows=100 loops=1/);
    expect(removed).toBeLessThan(10_000); // NOT EXISTS looked at all 1,500 for each of the 100: 150,000
  });

  test("the purge of unused GitHub payloads reads routed events through their index by created_at, not the whole outbox; its migration rolls back and forward again", async () => {
    const plan = await explain(db(), (trx) => deleteUnreferencedPayloads(trx, NOW), { withoutSeqScan: true });
    expect(plan).toContain("outbox_events_routed_created_at_index");
    expect(plan).not.toMatch(TABLE_SCAN);

    const name = "20261207110000_routed_events_by_created_at";
    expect((await db().migrate.down({ name }))[1]).toEqual([name]);
    expect(await indexNames(db(), "outbox_events")).toEqual(expect.arrayContaining(["outbox_events_github_delivery_id_index"]));
    expect((await db().migrate.up({ name }))[1]).toEqual([name]);
    const names = await indexNames(db(), "outbox_events");
    expect(names).toContain("outbox_events_routed_created_at_index");
    expect(names).not.toContain("outbox_events_github_delivery_id_index");
  });

  test("the outbox index migrations roll back and forward again", async () => {
    // By name, newest first: rollback would undo the whole batch the suite migrated in.
    const [pendingIndexes, pendingById, pendingByIdDropped] = [
      "20261202000000_outbox_pending_indexes",
      "20261202020000_outbox_pending_by_id",
      "20261207080000_outbox_pending_by_id_dropped",
    ];
    expect((await db().migrate.down({ name: pendingByIdDropped }))[1]).toEqual([pendingByIdDropped]);
    expect(await indexNames(db(), "outbox_events")).toEqual(expect.arrayContaining(["outbox_events_pending_id_index", "outbox_events_pending_ordering_key_id_index"]));
    expect((await db().migrate.down({ name: pendingById }))[1]).toEqual([pendingById]);
    expect(await indexNames(db(), "outbox_events")).toEqual(expect.arrayContaining(["outbox_events_pending_next_attempt_at_index", "outbox_events_pending_ordering_key_id_index"]));
    expect((await db().migrate.down({ name: pendingIndexes }))[1]).toEqual([pendingIndexes]);
    expect(await indexNames(db(), "outbox_events")).toEqual(expect.arrayContaining(["outbox_events_status_next_attempt_at_index", "outbox_events_ordering_key_id_index", "outbox_events_message_id_unique"]));

    for (const name of [pendingIndexes, pendingById, pendingByIdDropped]) expect((await db().migrate.up({ name }))[1]).toEqual([name]);
    const names = await indexNames(db(), "outbox_events");
    expect(names).toEqual(expect.arrayContaining(["outbox_events_pending_ordering_key_id_index"]));
    for (const gone of ["outbox_events_pending_id_index", "outbox_events_pending_next_attempt_at_index", "outbox_events_ordering_key_id_index", "outbox_events_message_id_unique"]) {
      expect(names).not.toContain(gone);
    }
  });
});

/** A plan step that reads all of outbox_events (Postgres), or all of it under one of the query's aliases (SQLite). */
const TABLE_SCAN = /Seq Scan on outbox_events|^\s*SCAN (outbox_events|e|o|p)\s*$/m;
