import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { Knex } from "knex";
import { createKnex } from "../../src/db/knex";
import { createDeps } from "../../src/deps";
import { listOutboxEvents } from "../../src/repositories/outbox";
import { installationEvent, pushEvent } from "../fixtures/payloads";
import { testConfig, testEnv } from "../helpers/config";
import { seedInstallation } from "../helpers/factories";
import { Answer, answer, apiRequest, isSuccess, sleep } from "../helpers/fault-requests";
import { OctoplexProcess, startOctoplexProcess } from "../helpers/octoplex-process";
import { expectInOrderPerKey } from "../helpers/outbox";
import { platformEnv, startPlatformReceiver, waitUntil } from "../helpers/platform-receiver";
import { describeWithPrivatePostgres, PrivatePostgres, startPrivatePostgres } from "../helpers/private-postgres";
import { runAlone } from "../helpers/run-alone";
import { signedInMember } from "../helpers/team-access";
import { subscribedTeam } from "../helpers/team-events";
import { postWebhook } from "../helpers/test-server";
import { ALICE } from "../helpers/users";

runAlone();

/** Every request while the database is down must be answered within this: a verdict, never a hang. */
const ANSWER_WITHIN_MS = 5_000;
/** DATABASE_TIMEOUT_MS of the Octoplex under test: how long it waits for a Postgres that says nothing. */
const DATABASE_TIMEOUT_MS = 1_500;
/** The stream's installations are STREAM_FIRST_ID + n. */
const STREAM_FIRST_ID = 200_000;
/** The installation whose pushes are routed to the subscribed teams. */
const ROUTED_INSTALLATION = 840_001;

const errorShape = (code?: string) => ({ error: expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }) });

describeWithPrivatePostgres("Postgres stopped, restarted or frozen mid-run (a private cluster: the shared one is never stopped)", () => {
  let pg: PrivatePostgres;
  let cwd: string;
  let octoplex: OctoplexProcess;
  /**
   * This process's own connection, to look at what Octoplex stored: opened when first needed and
   * closed after each test, so that stopping Postgres cuts none of ours.
   */
  let db: Knex | undefined;
  const look = () => (db ??= createKnex({ client: "postgres", url: pg.url }));
  let apiKey: string;
  /** Alice's session cookie: a person in a browser. */
  let cookie: string;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    cwd = mkdtempSync(join(tmpdir(), "octoplex-pg-restart-"));
    octoplex = await startOctoplexProcess(testEnv({ DATABASE_URL: pg.url, DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS) }), { cwd });
    const deps = createDeps(testConfig({ client: "postgres", url: pg.url }), { log: pino({ level: "silent" }) });
    try {
      apiKey = (await deps.services.apiKeys.create("postgres-restart")).key;
      ({ cookie } = await signedInMember(deps, ALICE, null));
    } finally {
      await deps.close();
    }
  }, 60_000);

  afterAll(async () => {
    await octoplex?.stop();
    await pg?.destroy();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  // After each test: the Octoplex that started in beforeAll is the one still serving.
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
    expect({ alive: octoplex.alive(), stderr: octoplex.alive() ? "" : octoplex.stderr() }).toEqual({ alive: true, stderr: "" });
  });

  const health = () => answer((signal) => fetch(`${octoplex.url}/healthz`, { signal }));
  const webhook = (installationId: number, deliveryId: string) =>
    answer((signal) => postWebhook(octoplex.url, "installation", installationEvent("created", { id: installationId }), { deliveryId, signal }));
  // The platform acts for Alice: a team an API key creates needs a first admin.
  const api = (method: string, path: string, body?: unknown) => answer((signal) => apiRequest(octoplex.url, apiKey, method, path, { body, user: ALICE.id, signal }));
  const asAlice = (path: string) => answer((signal) => fetch(`${octoplex.url}${path}`, { headers: { cookie }, signal }));

  test("while Postgres is stopped /healthz answers 503, webhooks 5xx and the API (API key or session) 503 database_unavailable, each at once; started again, the same Octoplex serves them all and keeps every acknowledged write", async () => {
    expect(await health()).toMatchObject({ status: 200, body: { status: "ok", database: "ok" } });
    expect(await webhook(1001, "restart-before")).toMatchObject({ status: 200 });
    const before = await api("POST", "/api/teams", { name: "before" });
    expect(before).toMatchObject({ status: 201, body: { name: "before" } });

    await pg.stop();
    // Twice: the first round finds the pool's connections cut, the second an empty pool and a closed port.
    for (const round of [1, 2]) {
      const [healthz, delivery, createTeam, listTeams, me] = await Promise.all([
        health(),
        webhook(1002, "restart-gap"),
        api("POST", "/api/teams", { name: `gap-${round}` }),
        api("GET", "/api/teams"),
        asAlice("/api/me"),
      ]);
      expect({ round, ...healthz }).toEqual({ round, status: 503, body: { status: "unavailable", database: "unreachable" }, ms: expect.any(Number) });
      // 5xx: GitHub marks the delivery failed, and it can be redelivered.
      expect({ round, status: delivery.status >= 500 && delivery.status < 600, body: delivery.body }).toEqual({ round, status: true, body: errorShape() });
      expect({ round, ...createTeam }).toEqual({ round, status: 503, body: errorShape("database_unavailable"), ms: expect.any(Number) });
      expect({ round, ...listTeams }).toEqual({ round, status: 503, body: errorShape("database_unavailable"), ms: expect.any(Number) });
      expect({ round, ...me }).toEqual({ round, status: 503, body: errorShape("database_unavailable"), ms: expect.any(Number) });
      for (const a of [healthz, delivery, createTeam, listTeams, me]) expect(a.ms).toBeLessThan(ANSWER_WITHIN_MS);
    }
    // What needs no database is served all along.
    expect((await answer((signal) => fetch(`${octoplex.url}/openapi.json`, { signal }))).status).toBe(200);
    expect(octoplex.alive()).toBe(true);

    await pg.start();
    // The first requests after the start succeed: the pool reconnects by itself, nothing restarts Octoplex.
    expect(await health()).toMatchObject({ status: 200, body: { status: "ok", database: "ok" } });
    expect(await webhook(1002, "restart-gap")).toMatchObject({ status: 200 }); // GitHub's redelivery
    expect(await webhook(1003, "restart-after")).toMatchObject({ status: 200 });
    expect(await webhook(1001, "restart-before")).toMatchObject({ status: 200 }); // a redelivery changes nothing
    expect(await api("POST", "/api/teams", { name: "after" })).toMatchObject({ status: 201, body: { name: "after" } });
    expect(await asAlice("/api/me")).toMatchObject({ status: 200, body: { user: { id: ALICE.id, login: ALICE.login } } });
    const teams = await api("GET", "/api/teams");
    expect(teams.status).toBe(200);
    expect((teams.body as Array<{ name: string }>).map((t) => t.name).sort()).toEqual(["after", "before"]);

    expect(await look()("webhook_deliveries").orderBy("id").pluck("id")).toEqual(["restart-after", "restart-before", "restart-gap"]);
    expect((await look()("installations").orderBy("id").pluck("id")).map(Number)).toEqual([1001, 1002, 1003]);
    // A write refused with 503 left nothing behind.
    expect(await look()("teams").orderBy("name").pluck("name")).toEqual(["after", "before"]);
  }, 60_000);

  test("pg_ctl restart under a stream of webhooks and API writes: each answers 2xx or a clean 5xx (no hang, no dropped connection), every acknowledged one is stored, and redelivering the rest stores each once", async () => {
    type Request = { kind: "webhook"; installationId: number; deliveryId: string } | { kind: "team"; name: string };
    type Outcome = Request & Answer & { afterRestart: boolean };
    const outcomes: Outcome[] = [];
    const healthAnswers: Answer[] = [];
    let sent = 0;
    let restart: Promise<void> | undefined;
    let restarted = false;
    let answeredAfterRestart = 0;
    // Three webhooks, then a team, and so on.
    const nextRequest = (): Request => {
      const i = sent++;
      return i % 4 === 3 ? { kind: "team", name: `stream-team-${i}` } : { kind: "webhook", installationId: STREAM_FIRST_ID + i, deliveryId: `stream-${i}` };
    };
    const done = () => answeredAfterRestart >= 40 || sent >= 1500;

    // Six clients, each sending one request after another (20 ms apart), so that requests are in
    // flight when Postgres cuts its connections; the restart starts once 40 were answered, and the
    // stream goes on until 40 sent after it had finished were answered.
    const client = async () => {
      while (!done()) {
        const request = nextRequest();
        const afterRestart = restarted;
        const result = request.kind === "webhook" ? await webhook(request.installationId, request.deliveryId) : await api("POST", "/api/teams", { name: request.name });
        outcomes.push({ ...request, ...result, afterRestart });
        if (afterRestart) answeredAfterRestart++;
        restart ??= outcomes.length >= 40 ? pg.restart().then(() => void (restarted = true)) : undefined;
        await sleep(20);
      }
    };
    const polling = (async () => {
      while (!done()) {
        healthAnswers.push(await health());
        await sleep(25);
      }
    })();
    await Promise.all([...Array.from({ length: 6 }, client), polling]);
    await restart;

    // Every request got an HTTP answer, in time.
    expect(outcomes.filter((o) => o.failure !== undefined).map((o) => o.failure)).toEqual([]);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(ANSWER_WITHIN_MS);
    const ok = outcomes.filter(isSuccess);
    const failed = outcomes.filter((o) => !isSuccess(o));
    // The restart was felt: some requests failed.
    expect(failed.length).toBeGreaterThan(0);
    // Clean failures only: webhooks 5xx with the error shape, the API 503 database_unavailable.
    for (const f of failed) {
      if (f.kind === "webhook") expect({ id: f.deliveryId, is5xx: f.status >= 500 && f.status < 600, body: f.body }).toEqual({ id: f.deliveryId, is5xx: true, body: errorShape() });
      else expect({ name: f.name, status: f.status, body: f.body }).toEqual({ name: f.name, status: 503, body: errorShape("database_unavailable") });
    }
    // Once the restart is over, everything goes through again, on the same process.
    expect(failed.filter((f) => f.afterRestart).map((f) => [f.kind, f.status, f.body])).toEqual([]);
    expect(healthAnswers.map((h) => h.status).filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const h of healthAnswers) expect(h.body).toEqual(h.status === 200 ? { status: "ok", database: "ok" } : { status: "unavailable", database: "unreachable" });

    // Every acknowledged delivery and team is stored.
    const stored = new Set(await look()("webhook_deliveries").where("id", "like", "stream-%").pluck("id"));
    expect(ok.flatMap((o) => (o.kind === "webhook" && !stored.has(o.deliveryId) ? [o.deliveryId] : []))).toEqual([]);
    const acknowledgedTeams = ok.flatMap((o) => (o.kind === "team" ? [{ id: (o.body as { id: number }).id, name: o.name }] : [])).sort((a, b) => a.id - b.id);
    const storedTeams = await look()("teams").whereIn("id", acknowledgedTeams.map((t) => t.id)).orderBy("id").select("id", "name");
    expect(storedTeams.map((t: { id: number; name: string }) => ({ id: Number(t.id), name: t.name }))).toEqual(acknowledgedTeams);

    // GitHub redelivers the failed deliveries: then each delivery is stored once, with its installation.
    for (const f of failed) if (f.kind === "webhook") expect(await webhook(f.installationId, f.deliveryId)).toMatchObject({ status: 200 });
    const webhooks = outcomes.flatMap((o) => (o.kind === "webhook" ? [o] : []));
    const deliveries = await look()("webhook_deliveries").where("id", "like", "stream-%").pluck("id");
    expect(deliveries.sort()).toEqual(webhooks.map((w) => w.deliveryId).sort());
    const installations = (await look()("installations").where("id", ">=", STREAM_FIRST_ID).pluck("id")).map(Number);
    expect(installations.sort((a, b) => a - b)).toEqual(webhooks.map((w) => w.installationId).sort((a, b) => a - b));
  }, 60_000);

  test("while Postgres is frozen (connections open, nothing answers) every request gets its verdict once the database timeout has passed: /healthz 503, webhooks and the API 503 database_unavailable; thawed, the same Octoplex serves them all and stores nothing it refused", async () => {
    expect(await webhook(3001, "freeze-before")).toMatchObject({ status: 200 });
    expect(await api("POST", "/api/teams", { name: "freeze-before" })).toMatchObject({ status: 201 });
    // Requests at once leave the pool with open connections, idle when Postgres stops answering.
    await Promise.all([api("GET", "/api/teams"), api("GET", "/api/teams"), asAlice("/api/me")]);
    const openConnections = await look()("pg_stat_activity").where({ datname: "octoplex" }).whereNot("pid", look().raw("pg_backend_pid()")).count({ n: "*" });
    expect(Number(openConnections[0].n)).toBeGreaterThan(0);

    pg.freeze();
    try {
      // First the requests alone, so that the pool's open connections are theirs: their queries go
      // out and nothing comes back. Then again with /healthz, on new connections the kernel accepts
      // and nobody answers.
      for (const round of [1, 2]) {
        const [delivery, createTeam, listTeams, me, healthz] = await Promise.all([
          webhook(3002, "freeze-gap"),
          api("POST", "/api/teams", { name: `freeze-gap-${round}` }),
          api("GET", "/api/teams"),
          asAlice("/api/me"),
          round === 2 ? health() : undefined,
        ]);
        for (const [what, a] of Object.entries({ delivery, createTeam, listTeams, me })) {
          expect({ round, what, status: a.status, body: a.body }).toEqual({ round, what, status: 503, body: errorShape("database_unavailable") });
          // A verdict, not a hang: once the timeout has passed, and not much later.
          expect({ round, what, waited: a.ms >= DATABASE_TIMEOUT_MS - 100 && a.ms < ANSWER_WITHIN_MS }).toEqual({ round, what, waited: true });
        }
        if (healthz) expect(healthz).toEqual({ status: 503, body: { status: "unavailable", database: "unreachable" }, ms: expect.any(Number) });
      }
    } finally {
      pg.thaw();
    }

    expect(await health()).toMatchObject({ status: 200, body: { status: "ok", database: "ok" } });
    expect(await webhook(3002, "freeze-gap")).toMatchObject({ status: 200 }); // GitHub's redelivery
    expect(await api("POST", "/api/teams", { name: "freeze-after" })).toMatchObject({ status: 201 });
    expect(await asAlice("/api/me")).toMatchObject({ status: 200, body: { user: { id: ALICE.id, login: ALICE.login } } });
    const teams = await api("GET", "/api/teams");
    expect((teams.body as Array<{ name: string }>).map((t) => t.name).filter((n) => n.startsWith("freeze-")).sort()).toEqual(["freeze-after", "freeze-before"]);
    // The refused writes were rolled back when Postgres went on and found their connections closed.
    expect(await look()("teams").where("name", "like", "freeze-%").orderBy("name").pluck("name")).toEqual(["freeze-after", "freeze-before"]);
    expect(await look()("webhook_deliveries").where("id", "like", "freeze-%").orderBy("id").pluck("id")).toEqual(["freeze-before", "freeze-gap"]);
    expect((await look()("installations").whereIn("id", [3001, 3002]).orderBy("id").pluck("id")).map(Number)).toEqual([3001, 3002]);
  }, 60_000);

  test("pg_ctl restart while routed pushes are acknowledged and their events dispatched: every acknowledged push, and every redelivered one, reaches each subscribed team exactly once (by webhook-id), in order per (team, repository), and nothing is lost", async () => {
    await seedInstallation(look(), ROUTED_INSTALLATION);
    const teamIds: number[] = [];
    for (const n of [1, 2, 3]) teamIds.push(await subscribedTeam(look(), `restart-push-${n}`, ROUTED_INSTALLATION));
    // Ours is closed before the restart: Postgres cuts only Octoplex's connections.
    await db!.destroy();
    db = undefined;
    // 10 ms an event, chains of up to ten: the dispatcher goes back to the database every 100 ms
    // or so, and so meets the restart whenever it comes.
    const receiver = await startPlatformReceiver({ delayMs: 10 });
    // The Octoplex of beforeAll routes nothing (no platform): this one does. A short attempt limit,
    // so that claims left by a pass the restart cut short lapse after 2 × 2 s + 5 s.
    const routing = testEnv({ DATABASE_URL: pg.url, DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MS), ...platformEnv(receiver), PLATFORM_WEBHOOK_TIMEOUT: "2s" });
    const router = await startOctoplexProcess(routing, { cwd });
    try {
      const repos = [{ id: 840_101, name: "api" }, { id: 840_102, name: "web" }];
      type Push = { deliveryId: string; repo: (typeof repos)[number]; after: string };
      const pushes: Push[] = [];
      const outcomes: Array<Answer & { push: Push; afterRestart: boolean }> = [];
      const send = (p: Push) => answer((signal) => postWebhook(router.url, "push", pushEvent(ROUTED_INSTALLATION, p.repo, p.after), { deliveryId: p.deliveryId, signal }));
      const acceptedIds = () => new Set(receiver.accepted().map((r) => r.webhookId));
      let restart: Promise<void> | undefined;
      let restarted = false;
      let answeredAfterRestart = 0;
      let atRestart: { acknowledged: number; accepted: number } | undefined;
      const done = () => answeredAfterRestart >= 20 || pushes.length >= 400;

      // Four clients, one push after another (20 ms apart), fresh delivery ids over two
      // repositories. The restart starts once 20 pushes were acknowledged and the platform has
      // accepted some of their events but not all (a backlog being dispatched); the stream goes on
      // until 20 pushes sent after the restart were answered.
      const client = async () => {
        while (!done()) {
          const i = pushes.length;
          const push = { deliveryId: `restart-push-${i}`, repo: repos[i % 2], after: i.toString(16).padStart(40, "0") };
          pushes.push(push);
          const afterRestart = restarted;
          outcomes.push({ push, ...(await send(push)), afterRestart });
          if (afterRestart) answeredAfterRestart++;
          const acknowledged = outcomes.filter(isSuccess).length;
          const accepted = acceptedIds().size;
          if (!restart && acknowledged >= 20 && accepted > 0 && accepted < acknowledged * teamIds.length) {
            atRestart = { acknowledged, accepted };
            restart = pg.restart().then(() => void (restarted = true));
          }
          await sleep(20);
        }
      };
      await Promise.all(Array.from({ length: 4 }, client));
      await restart;

      // The restart came while events of acknowledged pushes were being dispatched.
      expect(atRestart).toEqual({ acknowledged: expect.any(Number), accepted: expect.any(Number) });
      // Each push answered in time, 2xx or a clean 5xx, and the restart was felt.
      expect(outcomes.filter((o) => o.failure !== undefined).map((o) => `${o.push.deliveryId}: ${o.failure}`)).toEqual([]);
      expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(ANSWER_WITHIN_MS);
      const failed = outcomes.filter((o) => !isSuccess(o));
      expect(failed.length).toBeGreaterThan(0);
      for (const f of failed) expect({ id: f.push.deliveryId, is5xx: f.status >= 500 && f.status < 600, body: f.body }).toEqual({ id: f.push.deliveryId, is5xx: true, body: errorShape() });
      expect(failed.filter((f) => f.afterRestart).map((f) => f.push.deliveryId)).toEqual([]);

      // GitHub redelivers what was not acknowledged.
      const redelivered = await Promise.all(failed.map((f) => send(f.push)));
      expect(redelivered.filter((a) => !isSuccess(a))).toEqual([]);

      // The dispatcher gets over the restart by itself. What it sent but could not record as
      // delivered goes again once its claims lapse, under the same webhook-id: each (team, push)
      // pair has one webhook-id, so a platform that drops repeated ids gets each exactly once.
      const expected = teamIds.length * pushes.length;
      await waitUntil(() => acceptedIds().size >= expected, `all ${expected} routed events to reach the platform`, 30_000, 100);
      expect(receiver.received.filter((r) => r.verified !== true)).toEqual([]);
      const byId = new Map(receiver.accepted().map((r) => [r.webhookId, r.body]));
      const pairs = [...byId.values()].map((b) => `${b.data.teamId as number}:${b.data.deliveryId as string}`).sort();
      expect(pairs).toEqual(teamIds.flatMap((t) => pushes.map((p) => `${t}:${p.deliveryId}`)).sort());
      // …and records each as delivered.
      const pushEvents = async () => (await listOutboxEvents(look())).filter((e) => e.type === "github.push");
      await waitUntil(async () => (await pushEvents()).every((e) => e.status === "delivered"), "every github.push event to be marked delivered", 15_000, 100);
      const events = await pushEvents();
      expect(events).toHaveLength(expected);
      expect(await look()("github_event_payloads").where("delivery_id", "like", "restart-push-%").count({ n: "*" })).toEqual([{ n: String(pushes.length) }]);
      expect((await look()("webhook_deliveries").where("id", "like", "restart-push-%").pluck("id")).sort()).toEqual(pushes.map((p) => p.deliveryId).sort());
      expectInOrderPerKey(events, { received: receiver.received.filter((r) => r.body.type === "github.push") });
      expect({ alive: router.alive(), stderr: router.alive() ? "" : router.stderr() }).toEqual({ alive: true, stderr: "" });
    } finally {
      await router.stop();
      await receiver.close();
    }
  }, 60_000);
});
