import fc from "fast-check";
import type { Knex } from "knex";
import { appendAuditEvents } from "../../../src/repositories/audit-events";
import type { InstallationSnapshot } from "../../../src/repositories/installations";
import { hasDelivery } from "../../../src/repositories/webhook-deliveries";
import { createDeliveryLedger, Outcome } from "../../../src/services/events/delivery-ledger";
import { createInstallationEvents } from "../../../src/services/installations/installation-events";
import { noEvents } from "../../../src/services/events/platform-events";
import { createKnex } from "../../../src/db/knex";
import { isDatabaseUnavailable } from "../../../src/services/health";
import { describeEachDatabase, postgresOnly, truncateAll } from "../../helpers/databases";
import { freezableProxy } from "../../helpers/freezable-proxy";
import { auditEvent, countRows, delivery, NOW, repositories, snapshot } from "../../helpers/factories";
import { countTransactions } from "../../helpers/transactions";


type Event =
  | { kind: "created" | "refreshed" | "repositoriesChanged"; id: string; snapshot: InstallationSnapshot; added: number[]; removed: number[] }
  | { kind: "deleted"; id: string; installationId: number };

const repositoryOf = (id: number) => repositories(1, { firstId: id })[0];

// Few installations, repositories and instants, so that a batch often holds several deliveries of
// one installation, stale updated_at values, selections that flip, and repeated delivery ids.
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constantFrom("created" as const, "refreshed" as const, "repositoriesChanged" as const),
    id: fc.integer({ min: 1, max: 40 }).map((n) => `d-${n}`),
    snapshot: fc
      .record({
        id: fc.integer({ min: 1, max: 3 }),
        selection: fc.constantFrom("all" as const, "selected" as const),
        minute: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
        login: fc.constantFrom("acme", "acme-renamed"),
      })
      .map(({ id, selection, minute, login }) =>
        snapshot(id, {
          repositorySelection: selection,
          githubUpdatedAt: minute === null ? null : new Date(Date.UTC(2026, 10, 1, 10, minute)),
          account: { id: 9000 + id, login: `${login}-${id}`, type: "Organization", avatarUrl: null },
        }),
      ),
    added: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
    removed: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 2 }),
  }) },
  { weight: 1, arbitrary: fc.record({
    kind: fc.constant("deleted" as const),
    id: fc.integer({ min: 1, max: 40 }).map((n) => `d-${n}`),
    installationId: fc.integer({ min: 1, max: 3 }),
  }) },
);

describeEachDatabase("delivery ledger group commit", ({ db, database, kind }) => {
  const onPostgres = postgresOnly(kind, "the database timeout applies to Postgres connections only");

  const auditOnce = (action: string) => async (trx: Knex.Transaction) => {
    await appendAuditEvents(trx, [auditEvent({ action })], NOW);
  };

  test("deliveries that arrive while a transaction runs share the next one, each answered after its commit", async () => {
    const ledger = createDeliveryLedger(db(), () => NOW);
    let answered = 0;
    const transactions = await countTransactions(db(), async () => {
      let releaseFirst!: () => void;
      let firstStarted!: () => void;
      const running = new Promise<void>((resolve) => (firstStarted = resolve));
      const first = ledger(delivery("d-0"), async (trx) => {
        firstStarted();
        await new Promise<void>((resolve) => (releaseFirst = resolve));
        await auditOnce("first")(trx);
      });
      await running;
      const rest = Array.from({ length: 20 }, (_, i) => ledger(delivery(`d-${i + 1}`), auditOnce(`n${i}`)).then((o) => (answered++, o)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(answered).toBe(0); // nothing is answered before the transaction holding it commits
      releaseFirst();
      expect(await Promise.all([first, ...rest])).toEqual(Array(21).fill("applied"));
    });

    expect(transactions).toBe(2); // the first alone (the ledger was idle), then the 20 that waited, together
    expect(await countRows(db(), "audit_events")).toBe(21);
    expect(await countRows(db(), "webhook_deliveries")).toBe(21);
  });

  test("a delivery that fails in a batch fails alone: the others are applied and its id is forgotten", async () => {
    const ledger = createDeliveryLedger(db(), () => NOW);
    const results = await Promise.allSettled([
      ledger(delivery("d-1"), auditOnce("one")),
      ledger(delivery("d-2"), auditOnce("two")),
      ledger(delivery("d-3"), async () => {
        throw new Error("this delivery cannot be applied");
      }),
      ledger(delivery("d-4"), auditOnce("four")),
    ]);

    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      "applied",
      "applied",
      "this delivery cannot be applied",
      "applied",
    ]);
    expect(await hasDelivery(db(), "d-3")).toBe(false);
    expect(await countRows(db(), "audit_events")).toBe(3);
  });

  test("the same delivery id twice in one batch is applied once", async () => {
    const ledger = createDeliveryLedger(db(), () => NOW);
    const outcomes = await Promise.all([
      ledger(delivery("d-0"), auditOnce("opens the batch")),
      ledger(delivery("d-1"), auditOnce("one")),
      ledger(delivery("d-1"), auditOnce("one again")),
    ]);

    expect(outcomes).toEqual(["applied", "applied", "duplicate"]);
    expect(await countRows(db(), "audit_events")).toBe(2);
  });

  test("a stream of planned batches that never lets the queue empty still lets other queries of the pool through", async () => {
    const events = createInstallationEvents({ ledger: createDeliveryLedger(db(), () => NOW), now: () => NOW, events: noEvents });
    let next = 0;
    let streaming = true;
    // Each answered delivery queues the next at once: the ledger always has one waiting.
    const deliverer = async () => {
      while (streaming) {
        const id = ++next;
        await events.created(delivery(`d-${id}`, { installationId: id }), snapshot(id), []);
      }
    };
    const deliverers = Array.from({ length: 10 }, deliverer);
    try {
      while (next < 50) await new Promise((resolve) => setImmediate(resolve));
      // SQLite's pool has one connection, held by the ledger between its batches unless it gives it up.
      const counted = await Promise.race([
        db()("webhook_deliveries").count({ n: "*" }).then((rows) => Number(rows[0].n)),
        new Promise<string>((resolve) => setTimeout(() => resolve("no connection within 2 s"), 2_000)),
      ]);
      expect(counted).toBeGreaterThan(0);
      expect(streaming).toBe(true);
    } finally {
      streaming = false;
      await Promise.all(deliverers);
    }
    expect(await countRows(db(), "webhook_deliveries")).toBe(next);
  });

  onPostgres("a database that stops answering fails the whole batch once, after one timeout: not again as a batch and again one by one", async () => {
    const timeoutMs = 300;
    const proxy = await freezableProxy(new URL((database().config as { url: string }).url));
    const unanswered = createKnex({ client: "postgres", url: proxy.url, timeoutMs }, { poolMax: 3 });
    try {
      const events = createInstallationEvents({ ledger: createDeliveryLedger(unanswered, () => NOW), now: () => NOW, events: noEvents });
      expect(await events.created(delivery("d-0", { installationId: 1 }), snapshot(1), [])).toBe("applied");
      proxy.freeze();
      const started = Date.now();
      // Sent in one turn: one batch.
      const results = await Promise.allSettled([2, 3, 4, 5].map((id) => events.created(delivery(`d-${id}`, { installationId: id }), snapshot(id), [])));
      const waited = Date.now() - started;
      expect(results.map((r) => r.status === "rejected" && isDatabaseUnavailable(r.reason))).toEqual([true, true, true, true]);
      // One timeout; retrying as a knex batch and then each alone would be six.
      expect(waited).toBeLessThan(3 * timeoutMs);
    } finally {
      proxy.thaw();
      await unanswered.destroy();
      await proxy.close();
    }
  });

  test("a delivery that fails in a planned batch fails alone: the others are applied, nothing of it is written", async () => {
    const events = createInstallationEvents({ ledger: createDeliveryLedger(db(), () => NOW), now: () => NOW, events: noEvents });
    const broken = { ...snapshot(2), account: { id: 9002, login: null as unknown as string, type: "Organization", avatarUrl: null } };
    const results = await Promise.allSettled([
      events.created(delivery("d-0", { installationId: 1 }), snapshot(1), []),
      events.created(delivery("d-1", { installationId: 3 }), snapshot(3, { repositorySelection: "selected" }), repositories(2)),
      events.created(delivery("d-2", { installationId: 2 }), broken, repositories(1)),
      events.created(delivery("d-3", { installationId: 4 }), snapshot(4), []),
    ]);

    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((await db()("installations").orderBy("id").pluck("id")).map(Number)).toEqual([1, 3, 4]);
    expect(await countRows(db(), "installation_repositories")).toBe(2);
    expect(await hasDelivery(db(), "d-2")).toBe(false);
  });

  test.each([
    ["planned statements on a raw connection", true],
    ["knex", false],
  ])("installation deliveries applied in batches (%s) leave exactly what one by one through knex leaves (random sequences)", async (_, planned) => {
    const snapshotOfTables = async () => ({
      installations: await db()("installations").orderBy("id"),
      repositories: await db()("installation_repositories").orderBy(["installation_id", "repository_id"]),
      tombstones: await db()("installation_tombstones").orderBy("installation_id"),
      deliveries: (await db()("webhook_deliveries").orderBy("id").select("id")).map((r) => r.id),
    });
    const apply = (batched: boolean, events: Event[], maxBatch: number) => {
      const installationEvents = createInstallationEvents({
        ledger: createDeliveryLedger(db(), () => NOW, { maxBatch, planned: batched && planned }),
        now: () => NOW,
        events: noEvents,
      });
      const send = (e: Event): Promise<Outcome> => {
        const d = delivery(e.id, { installationId: e.kind === "deleted" ? e.installationId : e.snapshot.id });
        if (e.kind === "deleted") return installationEvents.deleted(d, e.installationId);
        const added = e.added.map(repositoryOf);
        if (e.kind === "created") return installationEvents.created(d, e.snapshot, added);
        if (e.kind === "refreshed") return installationEvents.refreshed(d, e.snapshot);
        return installationEvents.repositoriesChanged(d, e.snapshot, added, e.removed);
      };
      if (batched) return Promise.all(events.map(send));
      return events.reduce<Promise<Outcome[]>>(async (done, e) => [...(await done), await send(e)], Promise.resolve([]));
    };

    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 2, max: 10 }), async (events, maxBatch) => {
        await truncateAll(db());
        const oneByOne = { outcomes: await apply(false, events, maxBatch), tables: await snapshotOfTables() };
        await truncateAll(db());
        const batched = { outcomes: await apply(true, events, maxBatch), tables: await snapshotOfTables() };
        expect(batched).toEqual(oneByOne);
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
