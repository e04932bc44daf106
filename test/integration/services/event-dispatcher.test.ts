import type { Knex } from "knex";
import pino from "pino";
import { createKnex } from "../../../src/db/knex";
import { migrateLatest } from "../../../src/db/migrate";
import { startDispatchLoop } from "../../../src/jobs/dispatch-loop";
import { insertOutboxEvents, listOutboxEvents, newMessageId } from "../../../src/repositories/outbox";
import { createEventDispatcher, DispatcherOptions } from "../../../src/services/events/event-dispatcher";
import { createEventRecorder, PlatformEvent } from "../../../src/services/events/platform-events";
import { createCliTarget, CliTarget } from "../../helpers/cli";
import { databaseKinds, truncateAll } from "../../helpers/databases";
import { expectInOrderPerKey } from "../../helpers/outbox";
import { newPlatformSecret, PlatformReceiver, platformEnv, startPlatformReceiver, waitUntil } from "../../helpers/platform-receiver";

const silent = pino({ level: "silent" });
const realNow = () => new Date();

const linked = (teamId: number, installationId: number): PlatformEvent => ({
  type: "team.installation.linked",
  teamId,
  subject: `installation:${installationId}`,
  data: { teamId, installationId, linkedBy: 5001 },
});

/** `count` events of one team's repository, in its own ordering key, as the fan-out of GitHub's events writes them. */
function repositoryEvents(teamId: number, repositoryId: number, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const messageId = newMessageId();
    const data = { teamId, repository: { id: repositoryId }, n: i };
    return { messageId, type: "github.push", orderingKey: `team:${teamId}:repo:${repositoryId}`, teamId, payload: { id: messageId, type: "github.push", occurredAt: new Date().toISOString(), data } };
  });
}

const suspended = (installationId: number): PlatformEvent => ({
  type: "installation.suspended",
  subject: `installation:${installationId}`,
  data: { installationId, teamIds: [], suspendedBy: "octocat" },
});

// Against a real HTTP receiver on loopback that checks every signature with `standardwebhooks`.
describe.each(databaseKinds())("delivering events to the platform on %s", (kind) => {
  let target: CliTarget;
  let receiver: PlatformReceiver;
  const db = () => target.db;

  /** Records events in a transaction of their own, as a change would; retried for `retryForMs`. */
  async function record(events: PlatformEvent[], retryForMs = 60_000, on: Knex = db()): Promise<void> {
    await on.transaction((trx) => createEventRecorder({ now: realNow, retryForMs }).record(trx, events));
  }

  /** The real clock and a small backoff (20 ms doubling up to 100 ms): retries come quickly. */
  function dispatcher(overrides: Partial<DispatcherOptions> = {}) {
    return createEventDispatcher({
      db: db(),
      now: realNow,
      log: silent,
      url: receiver.url,
      secret: receiver.secret,
      timeoutMs: 2_000,
      backoffBaseMs: 20,
      backoffCapMs: 100,
      ...overrides,
    });
  }

  const allDelivered = async () => (await listOutboxEvents(db())).every((e) => e.status === "delivered");

  beforeAll(async () => {
    target = await createCliTarget(kind);
    await migrateLatest(db());
  });
  beforeEach(async () => {
    await truncateAll(db());
    receiver = await startPlatformReceiver();
  });
  afterEach(() => receiver?.close());
  afterAll(() => target?.close());

  test("each event arrives signed (standardwebhooks verifies it) with body { id, type, occurredAt, data } and is marked delivered", async () => {
    await record([linked(1, 101), suspended(101)]);

    expect(await dispatcher().dispatchDue()).toEqual({ delivered: 2, retrying: 0, failed: 0 });

    const stored = await listOutboxEvents(db());
    expect(receiver.received.map((r) => r.verified)).toEqual([true, true]);
    expect(receiver.received.map((r) => r.webhookId).sort()).toEqual(stored.map((e) => e.messageId).sort());
    for (const r of receiver.received) {
      const event = stored.find((e) => e.messageId === r.webhookId)!;
      expect(r.body).toEqual({ id: event.messageId, type: event.type, occurredAt: event.createdAt.toISOString(), data: event.payload.data });
      expect(Object.keys(JSON.parse(r.raw))).toEqual(["id", "type", "occurredAt", "data"]);
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(10);
    }
    expect(receiver.received.find((r) => r.body.type === "team.installation.linked")!.body.data).toEqual({ teamId: 1, installationId: 101, linkedBy: 5001 });
    expect(stored.map((e) => [e.status, e.attempts, e.lastError, e.deliveredAt instanceof Date])).toEqual([
      ["delivered", 1, null, true],
      ["delivered", 1, null, true],
    ]);
    // Nothing is due any more.
    expect(await dispatcher().dispatchDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(receiver.received).toHaveLength(2);
  });

  test("a receiver holding another secret refuses the signature: the event is not delivered but retried", async () => {
    const other = await startPlatformReceiver({ secret: newPlatformSecret() });
    try {
      await record([linked(1, 101)]);
      const report = await dispatcher({ url: other.url }).dispatchDue();
      expect(report).toEqual({ delivered: 0, retrying: 1, failed: 0 });
      expect(other.received.map((r) => [r.verified, r.status])).toEqual([["No matching signature found", 400]]);
      const [event] = await listOutboxEvents(db());
      expect([event.status, event.attempts, event.lastError]).toEqual(["pending", 1, "HTTP 400"]);
    } finally {
      await other.close();
    }
  });

  test("receiver down, then answering 500, then up: every event arrives at least once and each team's in order (dispatch loop)", async () => {
    await receiver.down();
    const teams = [1, 2, 3];
    const loop = startDispatchLoop(dispatcher(), silent, 10);
    try {
      // Events keep coming while the platform is unreachable.
      for (let round = 0; round < 6; round++) {
        await record(teams.map((t) => linked(t, 100 * t + round)));
        await record([suspended(900 + round)]);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(receiver.received).toHaveLength(0);
      const attempted = (await listOutboxEvents(db())).filter((e) => e.attempts > 0);
      expect(attempted.length).toBeGreaterThan(0);
      // By its code only: teams read it in their audit trail, and the message names the platform's address.
      expect(new Set(attempted.map((e) => `${e.status} ${e.lastError}`))).toEqual(new Set(["pending connection failed (ECONNREFUSED)"]));

      receiver.mode = "error";
      await receiver.up();
      await waitUntil(() => receiver.received.length >= 4, "some requests answered 500");
      receiver.mode = "ok";
      await waitUntil(allDelivered, "every event delivered");
    } finally {
      await loop.stop();
    }

    const events = await listOutboxEvents(db());
    expect(events).toHaveLength(24);
    // At least once: no event missing; every request signed.
    expect(new Set(receiver.accepted().map((r) => r.webhookId))).toEqual(new Set(events.map((e) => e.messageId)));
    expect(receiver.received.every((r) => r.verified === true)).toBe(true);
    expect(receiver.received.length).toBeGreaterThan(events.length); // there were retries
    expectInOrderPerKey(events, receiver);
  });

  test("receiver answering 500 forever: the event ends failed after its retry budget; `octoplex events retry ID` sends it again", async () => {
    receiver.mode = "error";
    await record([linked(1, 101)], 300);
    const d = dispatcher();

    await waitUntil(async () => (await d.dispatchDue(), (await listOutboxEvents(db()))[0].status === "failed"), "the event to fail", 5_000);

    const [failed] = await listOutboxEvents(db());
    expect(failed.attempts).toBeGreaterThanOrEqual(2);
    expect(failed.lastError).toBe("HTTP 500");
    expect(receiver.received).toHaveLength(failed.attempts);
    expect(receiver.received.every((r) => r.verified === true && r.webhookId === failed.messageId)).toBe(true);
    // Failed is final: no more attempts.
    expect(await d.dispatchDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });

    receiver.mode = "ok";
    const run = await target.run(["events", "retry", String(failed.id)], platformEnv(receiver));

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual(["Queued 1 event(s) again", "Sent now: 1 delivered, 0 will be retried, 0 failed"]);
    const [retried] = await listOutboxEvents(db());
    expect([retried.status, retried.attempts, retried.lastError]).toEqual(["delivered", failed.attempts + 1, null]);
    expect(receiver.accepted().map((r) => r.webhookId)).toEqual([failed.messageId]);
    // A new budget of 24 hours from the retry.
    expect(retried.giveUpAt.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);
  });

  test("`octoplex events retry --all-failed` requeues every failed event; with PLATFORM_WEBHOOK_URL set it sends them at once", async () => {
    receiver.mode = "error";
    const d = dispatcher();
    const failedCount = async () => (await listOutboxEvents(db())).filter((e) => e.status === "failed").length;
    await record([linked(1, 101), linked(2, 201), suspended(301)], 200);
    await record([linked(3, 401)], 60_000); // still within its budget: stays pending
    await waitUntil(async () => (await d.dispatchDue(), (await failedCount()) === 3), "three events to fail", 5_000);

    // Without PLATFORM_WEBHOOK_URL the CLI only queues them; the server's dispatcher sends them.
    const requestsBefore = receiver.received.length;
    const queued = await target.run(["events", "retry", "--all-failed"]);
    expect(queued.exitCode).toBe(0);
    expect(queued.out).toEqual(["Queued 3 event(s) again"]);
    expect(receiver.received).toHaveLength(requestsBefore);
    expect((await listOutboxEvents(db())).map((e) => e.status)).toEqual(["pending", "pending", "pending", "pending"]);
    receiver.mode = "ok";
    await waitUntil(async () => (await d.dispatchDue(), allDelivered()), "the requeued events delivered", 5_000);

    // With it set, the command delivers them itself.
    receiver.mode = "error";
    await record([linked(1, 102), suspended(302)], 200);
    await waitUntil(async () => (await d.dispatchDue(), (await failedCount()) === 2), "two events to fail", 5_000);
    receiver.mode = "ok";
    const sent = await target.run(["events", "retry", "--all-failed"], platformEnv(receiver));

    expect(sent.err).toEqual([]);
    expect(sent.exitCode).toBe(0);
    expect(sent.out).toEqual(["Queued 2 event(s) again", "Sent now: 2 delivered, 0 will be retried, 0 failed"]);
    expect(await allDelivered()).toBe(true);
    expect(new Set(receiver.accepted().map((r) => r.webhookId))).toEqual(new Set((await listOutboxEvents(db())).map((e) => e.messageId)));

    const none = await target.run(["events", "retry", "--all-failed"], platformEnv(receiver));
    expect(none.exitCode).toBe(1);
    expect(none.err).toEqual(["octoplex: no failed events"]);
  });

  test("when recording what the platform accepted fails (a database blip), the next pass records it: nothing is sent twice, and each event is counted and audited once", async () => {
    await record([linked(1, 101), linked(2, 102)]);
    await db().transaction((trx) => insertOutboxEvents(trx, repositoryEvents(3, 33, 2), new Date(), new Date(Date.now() + 60_000)));
    // The first time the dispatcher marks events delivered, the database fails.
    let failures = 1;
    const marking = (sql: unknown) => typeof sql === "string" && sql.includes("set status = 'delivered'");
    const blip = () => Object.assign(new Error("Connection terminated unexpectedly"), { code: "ECONNRESET" });
    const flaky = new Proxy(db(), {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === "raw") return (sql: unknown, ...rest: unknown[]) => (marking(sql) && failures-- > 0 ? Promise.reject(blip()) : target.raw(sql as string, ...(rest as [])));
        // SQLite marks them in a transaction of its own.
        if (property === "transaction" && kind === "sqlite") return (...args: unknown[]) => (failures-- > 0 ? Promise.reject(blip()) : (target.transaction as (...a: unknown[]) => unknown)(...args));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const d = dispatcher({ db: flaky as Knex });

    await expect(d.dispatchDue()).rejects.toThrow("Connection terminated unexpectedly");
    expect(receiver.accepted()).toHaveLength(4);
    expect((await listOutboxEvents(db())).map((e) => e.status)).toEqual(["pending", "pending", "pending", "pending"]);

    expect(await d.dispatchDue()).toEqual({ delivered: 4, retrying: 0, failed: 0 });
    expect(receiver.received).toHaveLength(4);
    expect((await listOutboxEvents(db())).map((e) => [e.status, e.attempts])).toEqual([["delivered", 1], ["delivered", 1], ["delivered", 1], ["delivered", 1]]);
    expect(Number((await db()("audit_events").where("action", "github.push").count({ n: "*" }))[0].n)).toBe(2);
  });

  test("a receiver that never answers: the attempt times out after timeoutMs and is retried until it answers", async () => {
    receiver.mode = "hang";
    await record([linked(1, 101)]);
    const d = dispatcher({ timeoutMs: 200 });

    const started = Date.now();
    expect(await d.dispatchDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    expect(Date.now() - started).toBeLessThan(2_000);
    const [waiting] = await listOutboxEvents(db());
    expect([waiting.status, waiting.attempts, waiting.lastError]).toEqual(["pending", 1, "timed out after 200 ms"]);
    expect(waiting.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() - 1_000);

    receiver.mode = "ok";
    await waitUntil(async () => (await d.dispatchDue(), allDelivered()), "the event to be delivered", 5_000);
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    expect(new Set(receiver.received.map((r) => r.webhookId)).size).toBe(1);
    expect(receiver.accepted()).toHaveLength(1);
  });

  test("two dispatchers at once (each with its own connections) never send the same event twice, and send each once", async () => {
    receiver.delayMs = 15;
    for (let round = 0; round < 8; round++) await record([1, 2, 3, 4].map((t) => linked(t, 100 * t + round)));
    const other = createKnex(target.database.config);
    try {
      const second = createEventDispatcher({ db: other, now: realNow, log: silent, url: receiver.url, secret: receiver.secret, backoffBaseMs: 20, backoffCapMs: 100 });
      const first = dispatcher();
      const drain = async (d: { dispatchDue(): Promise<unknown> }) => {
        while (!(await allDelivered())) await d.dispatchDue();
      };
      await Promise.all([drain(first), drain(second), drain(first), drain(second)]);
    } finally {
      await other.destroy();
    }

    const events = await listOutboxEvents(db());
    expect(receiver.maxConcurrentPerId).toBe(1);
    expect(receiver.received.map((r) => r.webhookId).sort()).toEqual(events.map((e) => e.messageId).sort());
    expect(events.every((e) => e.status === "delivered" && e.attempts === 1)).toBe(true);
    expectInOrderPerKey(events, receiver);
  });

  /** Writes each team's events over `repositories` repositories, interleaved as pushes arrive, oldest first. */
  async function queueRepositoryEvents(teamId: number, repositories: number, perRepository: number, on: Knex = db()): Promise<void> {
    const perRepo = Array.from({ length: repositories }, (_, r) => repositoryEvents(teamId, 1000 * teamId + r, perRepository));
    const interleaved = perRepo[0].flatMap((_, i) => perRepo.map((events) => events[i]));
    const now = new Date();
    await on.transaction((trx) => insertOutboxEvents(trx, interleaved, now, new Date(now.getTime() + 3_600_000)));
  }

  test("teams take turns: team 1's 200 events over 40 repositories do not hold team 2's one event, sent in the first batch; every key in order", async () => {
    await queueRepositoryEvents(1, 40, 5);
    await queueRepositoryEvents(2, 1, 1);
    const batch = { keys: 30, perTeam: 10, chain: 5 };

    expect(await dispatcher({ batch }).dispatchDue()).toEqual({ delivered: 201, retrying: 0, failed: 0 });

    // A pass sends at most perTeam keys × chain events of team 1, and the next pass starts after
    // the last answer of this one: team 2's event is among the first pass's requests.
    const position = receiver.received.findIndex((r) => r.body.data.teamId === 2);
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThan(batch.perTeam * batch.chain + 1);
    const events = await listOutboxEvents(db());
    expect(new Set(receiver.received.map((r) => r.webhookId)).size).toBe(201);
    expect(events.every((e) => e.status === "delivered" && e.attempts === 1)).toBe(true);
    expectInOrderPerKey(events, receiver);
  }, 60_000);

  test("a team whose endpoint fails backs off without taking other teams' places: each of its keys tried once, the others' events all delivered", async () => {
    receiver.failingTeams.add(1);
    await queueRepositoryEvents(1, 50, 10);
    await queueRepositoryEvents(2, 5, 20);
    await queueRepositoryEvents(3, 5, 20);

    // A backoff longer than the test: a failed key's first event is not due again meanwhile (and
    // a timeout that a loaded machine does not reach: a timed-out event would wait that long too).
    const options = { timeoutMs: 10_000, backoffBaseMs: 60_000, backoffCapMs: 60_000, batch: { keys: 20, perTeam: 10, chain: 4 } };
    const report = await dispatcher(options).dispatchDue();

    expect(report.delivered).toBe(200);
    const toTeam1 = receiver.received.filter((r) => r.body.data.teamId === 1);
    // Only the first event of each of team 1's keys, each once; its followers wait behind it.
    expect(toTeam1.filter((r) => !(r.body.data.n === 0 && r.status === 500)).map((r) => [r.body.data, r.status])).toEqual([]);
    expect(new Set(toTeam1.map((r) => r.webhookId)).size).toBe(toTeam1.length);
    expect(toTeam1.length).toBeLessThanOrEqual(50);
    const events = await listOutboxEvents(db());
    expect(events.filter((e) => e.teamId !== 1).every((e) => e.status === "delivered")).toBe(true);
    const team1 = events.filter((e) => e.teamId === 1);
    expect(team1.every((e) => e.status === "pending")).toBe(true);
    expect(team1.filter((e) => e.attempts > 0).map((e) => [(e.payload.data as { n: number }).n, e.attempts, e.lastError])).toEqual(toTeam1.map(() => [0, 1, "HTTP 500"]));
    expectInOrderPerKey(events, receiver);
  });

  test("two dispatchers claiming batches of chains at once: no event sent twice at the same time, each delivered once, every key in order", async () => {
    receiver.delayMs = 2;
    for (let team = 1; team <= 6; team++) await queueRepositoryEvents(team, 4, 25);
    const other = createKnex(target.database.config);
    try {
      const batch = { keys: 10, perTeam: 3, chain: 6 };
      const first = dispatcher({ batch });
      const second = createEventDispatcher({ db: other, now: realNow, log: silent, url: receiver.url, secret: receiver.secret, backoffBaseMs: 20, backoffCapMs: 100, batch });
      const drain = async (d: { dispatchDue(): Promise<unknown> }) => {
        while (!(await allDelivered())) await d.dispatchDue();
      };
      await Promise.all([drain(first), drain(second)]);
    } finally {
      await other.destroy();
    }

    const events = await listOutboxEvents(db());
    expect(events).toHaveLength(600);
    expect(receiver.maxConcurrentPerId).toBe(1);
    expect(receiver.received.map((r) => r.webhookId).sort()).toEqual(events.map((e) => e.messageId).sort());
    expect(events.every((e) => e.status === "delivered" && e.attempts === 1)).toBe(true);
    expectInOrderPerKey(events, receiver);
  });

  test("a team's event committed while an earlier event of that team is still uncommitted waits for it", async () => {
    const first = createKnex(target.database.config);
    const second = createKnex(target.database.config);
    const trx = await first.transaction();
    try {
      await createEventRecorder({ now: realNow, retryForMs: 60_000 }).record(trx, [linked(1, 101)]);
      // Recorded later, committed first (on SQLite it waits for the write lock instead).
      const later = record([linked(1, 102)], 60_000, second);
      later.catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await dispatcher().dispatchDue();
      expect(receiver.received.map((r) => r.body.data.installationId)).toEqual([]);

      await trx.commit();
      await later;
      await waitUntil(async () => (await dispatcher().dispatchDue(), allDelivered()), "both events delivered", 5_000);
      expect(receiver.received.map((r) => r.body.data.installationId)).toEqual([101, 102]);
    } finally {
      if (!trx.isCompleted()) await trx.rollback().catch(() => undefined);
      await first.destroy();
      await second.destroy();
    }
  });
});
