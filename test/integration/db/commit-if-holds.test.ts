import { readdirSync, readlinkSync } from "node:fs";
import { createKnex, dialectOf } from "../../../src/db/knex";
import { migrateLatest } from "../../../src/db/migrate";
import type { Knex } from "knex";
import { commitLane } from "../../../src/db/commit-if-holds";
import type { JsonStatement } from "../../../src/db/json-statements";
import { addRepositoriesStatement } from "../../../src/repositories/installation-repositories";
import { findInstallation, noneDeletedCondition, addTombstone, upsertInstallationsStatement } from "../../../src/repositories/installations";
import { listInstallationRepositories, toStored } from "../../../src/repositories/installation-repositories";
import { hasDelivery, insertDeliveriesStatement, noneRecordedCondition, recordDelivery } from "../../../src/repositories/webhook-deliveries";
import { createTestDatabase, describeEachDatabase } from "../../helpers/databases";
import { countRows, delivery, NOW, repositories, snapshot } from "../../helpers/factories";

/** One commit on a lane of its own, given back after. */
async function commitIfHolds(db: Knex, conditions: JsonStatement[], writes: JsonStatement[]): Promise<boolean> {
  const lane = commitLane(db);
  try {
    return await lane.commit(conditions, writes);
  } finally {
    await lane.release();
  }
}

describeEachDatabase("a lane's commit if its conditions hold (the webhook hot path's one round trip)", ({ db }) => {
  const batch = (ids: number[]) => {
    const d = dialectOf(db());
    return {
      conditions: [noneRecordedCondition(d, ids.map((i) => `d-${i}`)), noneDeletedCondition(d, ids)],
      writes: [
        insertDeliveriesStatement(d, ids.map((i) => delivery(`d-${i}`, { installationId: i })), NOW),
        upsertInstallationsStatement(d, ids.map((i) => snapshot(i, { repositorySelection: "selected" })), NOW),
        addRepositoriesStatement(d, ids.map((i) => ({ installationId: i, repository: repositories(1, { firstId: i * 10 })[0] }))),
      ],
    };
  };

  test("writes every statement, in one transaction, when the conditions hold", async () => {
    const { conditions, writes } = batch([1, 2, 3]);
    expect(await commitIfHolds(db(), conditions, writes)).toBe(true);

    expect(await countRows(db(), "webhook_deliveries")).toBe(3);
    expect((await findInstallation(db(), 2))?.repositorySelection).toBe("selected");
    expect((await listInstallationRepositories(db(), 3)).map((r) => r.id)).toEqual([30]);
  });

  test("writes nothing and answers false when a delivery was recorded before", async () => {
    await recordDelivery(db(), delivery("d-2", { installationId: 2 }), NOW);
    const { conditions, writes } = batch([1, 2]);

    expect(await commitIfHolds(db(), conditions, writes)).toBe(false);
    expect(await hasDelivery(db(), "d-1")).toBe(false);
    expect(await countRows(db(), "installations")).toBe(0);
  });

  test("writes nothing and answers false when an installation was deleted", async () => {
    await addTombstone(db(), 2, NOW);
    const { conditions, writes } = batch([1, 2]);

    expect(await commitIfHolds(db(), conditions, writes)).toBe(false);
    expect(await countRows(db(), "webhook_deliveries")).toBe(0);
    expect(await countRows(db(), "installations")).toBe(0);
  });

  test("rolls back every write when one of them fails", async () => {
    const d = dialectOf(db());
    const writes = [
      insertDeliveriesStatement(d, [delivery("d-1", { installationId: 1 })], NOW),
      // No installation 999: the foreign key fails the statement.
      addRepositoriesStatement(d, [{ installationId: 999, repository: repositories(1)[0] }]),
    ];

    await expect(commitIfHolds(db(), [], writes)).rejects.toThrow();
    expect(await hasDelivery(db(), "d-1")).toBe(false);
  });

  test("values with quotes, backslashes, replacement patterns and emoji are stored as sent", async () => {
    const login = `o'brien\\"$'$&$1\`ü😀`;
    const d = dialectOf(db());
    const installation = { ...snapshot(7, { repositorySelection: "selected" }), account: { id: 70, login, type: "User", avatarUrl: null } };
    const repository = { id: 71, fullName: `${login}/r'$'`, private: false };
    const ok = await commitIfHolds(db(), [], [
      upsertInstallationsStatement(d, [installation], NOW),
      addRepositoriesStatement(d, [{ installationId: 7, repository }]),
    ]);

    expect(ok).toBe(true);
    expect((await findInstallation(db(), 7))?.account.login).toBe(login);
    expect(await listInstallationRepositories(db(), 7)).toEqual([toStored(repository)]);
  });
});

describeEachDatabase("commitLane (one connection for a burst of batches)", ({ db, database }) => {
  const pool = () => db().client.pool as { numUsed(): number; numPendingAcquires(): number };
  const deliveries = (ids: string[]) => [insertDeliveriesStatement(dialectOf(db()), ids.map((id) => delivery(id)), NOW)];

  test("keeps one connection from one commit to the next, and gives it back when released", async () => {
    const lane = commitLane(db());
    expect(await lane.commit([], deliveries(["d-1"]))).toBe(true);
    expect(pool().numUsed()).toBe(1);
    expect(await lane.commit([], deliveries(["d-2"]))).toBe(true);
    expect(pool().numUsed()).toBe(1);
    await lane.release();
    expect(pool().numUsed()).toBe(0);
    expect(await countRows(db(), "webhook_deliveries")).toBe(2);
  });

  test("on a pool of one connection, gives it to a query that waits for it, and takes it again at the next commit", async () => {
    const single = createKnex(database().config, { poolMax: 1 });
    const lane = commitLane(single);
    try {
      await lane.commit([], [insertDeliveriesStatement(dialectOf(single), [delivery("d-1")], NOW)]);
      // then() starts the query: a knex builder runs only when awaited.
      const waiting = single("webhook_deliveries").count({ n: "*" }).then((rows) => rows);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((single.client.pool as { numPendingAcquires(): number }).numPendingAcquires()).toBe(1);
      await lane.yieldToWaiters();
      expect(Number((await waiting)[0].n)).toBe(1);
      expect(await lane.commit([], [insertDeliveriesStatement(dialectOf(single), [delivery("d-2")], NOW)])).toBe(true);
      await lane.release();
      expect(await countRows(single, "webhook_deliveries")).toBe(2);
    } finally {
      await lane.release();
      await single.destroy();
    }
  });

  test("gives its connection back when a commit fails", async () => {
    const lane = commitLane(db());
    await expect(lane.commit([], [addRepositoriesStatement(dialectOf(db()), [{ installationId: 999, repository: repositories(1)[0] }])])).rejects.toThrow();
    expect(pool().numUsed()).toBe(0);
  });
});

test("a SQLite connection that ran the hot path still closes: no file of the database stays open", async () => {
  const database = await createTestDatabase("sqlite");
  const db = createKnex(database.config);
  const openFiles = () =>
    readdirSync("/proc/self/fd").flatMap((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        return database.config.client === "sqlite" && target.startsWith(database.config.filename) ? [target] : [];
      } catch {
        return [];
      }
    });
  try {
    await migrateLatest(db);
    expect(await commitIfHolds(db, [], [insertDeliveriesStatement("sqlite", [delivery("d-1")], NOW)])).toBe(true);
    expect(openFiles().length).toBeGreaterThan(0);
  } finally {
    await db.destroy();
  }
  expect(openFiles()).toEqual([]);
  await database.drop();
});
