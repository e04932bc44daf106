import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { addTeamMember } from "../../src/repositories/teams";
import type { FakeInstallation } from "../fakes/fake-github";
import { githubEnv, testEnv } from "../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase } from "../helpers/databases";
import { countRows, NOW, seedInstallation, seedTeams } from "../helpers/factories";
import { pushEvent } from "../fixtures/payloads";
import { listOutboxEvents } from "../../src/repositories/outbox";
import { Answer, answer, apiRequest, isSuccess } from "../helpers/fault-requests";
import { OctoplexProcess, startOctoplexProcess } from "../helpers/octoplex-process";
import { expectInOrderPerKey } from "../helpers/outbox";
import { platformEnv, startPlatformReceiver, waitUntil } from "../helpers/platform-receiver";
import { subscribedTeam } from "../helpers/team-events";
import { runAlone } from "../helpers/run-alone";
import { postWebhook } from "../helpers/test-server";
import type { TestUser } from "../helpers/github-oauth";
import { seedSignedInUser } from "../helpers/users";
import { startWorkerHost, WorkerHost } from "../helpers/worker-host";

runAlone();

const REQUESTS_PER_KIND = 100;
const ADMINS = 10;
/** Octoplex is killed once this many links and this many deliveries were acknowledged. */
const KILL_AFTER_EACH = 5;
/** Routed pushes in the second case, each to three subscribed teams. */
const PUSHES = 60;

interface LinkRequest {
  kind: "link";
  teamId: number;
  installationId: number;
  /** The admin the platform acts for (X-Octoplex-User). */
  userId: number;
}
interface DeliveryRequest {
  kind: "delivery";
  deliveryId: string;
  installation: FakeInstallation;
}
type FaultRequest = LinkRequest | DeliveryRequest;

const describeRequest = (r: FaultRequest) => (r.kind === "link" ? `link team ${r.teamId} ↔ ${r.installationId}` : `delivery ${r.deliveryId}`);

/** Rows that are there more than once: (team, installation) links, delivery ids, installation ids, link audit events. */
async function duplicates(db: Knex) {
  const twice = async (table: string, columns: string[], where: Record<string, string> = {}) =>
    (await db(table).where(where).select(columns).count({ n: "*" }).groupBy(columns).havingRaw("count(*) > 1")).map((row) => ({ table, ...row }));
  return [
    ...(await twice("team_installations", ["team_id", "installation_id"])),
    ...(await twice("webhook_deliveries", ["id"])),
    ...(await twice("installations", ["id"])),
    ...(await twice("audit_events", ["team_id", "installation_id"], { action: "team.installation.linked" })),
  ];
}

/** What the database holds of the requests: links (as "team:installation"), delivery ids, installation ids, link audit events. */
async function stored(db: Knex) {
  const links = (await db("team_installations").select("team_id", "installation_id")).map((r) => `${Number(r.team_id)}:${Number(r.installation_id)}`);
  const audited = (await db("audit_events").where({ action: "team.installation.linked" }).select("team_id", "installation_id")).map(
    (r) => `${Number(r.team_id)}:${Number(r.installation_id)}`,
  );
  return {
    links: new Set(links),
    audited: new Set(audited),
    deliveries: new Set<string>(await db("webhook_deliveries").pluck("id")),
    installations: new Set((await db("installations").pluck("id")).map(Number)),
  };
}

const linkKey = (r: LinkRequest) => `${r.teamId}:${r.installationId}`;

// Octoplex SIGKILLed with 200 requests in flight: whatever it acknowledged survives, nothing is
// there twice, and the requests it never answered go through once when sent again.
describe.each(databaseKinds())("a SIGKILLed Octoplex on %s", (kind) => {
  let cwd: string;
  let host: WorkerHost;
  let env: NodeJS.ProcessEnv;
  let octoplex: OctoplexProcess | undefined;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "octoplex-sigkill-"));
    // SQLite: the file `npm start` in cwd uses (DATABASE_URL unset).
    const database: TestDatabase =
      kind === "sqlite"
        ? { kind, config: { client: "sqlite", filename: join(cwd, "data", "octoplex.sqlite") }, drop: async () => rmSync(cwd, { recursive: true, force: true }) }
        : await createTestDatabase(kind);
    host = await startWorkerHost(database);
    env = testEnv({ ...githubEnv(host.github.url), ...(database.config.client === "postgres" ? { DATABASE_URL: database.config.url } : {}) });
  }, 60_000);

  afterAll(async () => {
    await octoplex?.stop();
    await host?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  test("killed while 100 link requests and 100 webhook deliveries are in flight: after a restart every acknowledged one is stored, none twice, and the unacknowledged ones sent again are stored exactly once", async () => {
    const { github, deps } = host;
    // Ten admins, each of ten organizations with the app installed, and of ten teams.
    const admins: TestUser[] = Array.from({ length: ADMINS }, (_, u) => ({ id: 6100 + u, login: `sigkill-admin-${u}` }));
    for (const admin of admins) await seedSignedInUser(deps, admin, { tokens: github.issue(admin) });
    const adminOf = (i: number) => admins[i % ADMINS];
    const installations = Array.from({ length: REQUESTS_PER_KIND }, (_, i) => {
      const org = github.world.addOrg({ id: 810_000 + i, login: `sigkill-org-${i}` });
      github.world.setMembership(org, adminOf(i), "admin");
      return github.world.install(org);
    });
    const teams = await seedTeams(deps.db, REQUESTS_PER_KIND, "sigkill");
    for (const [i, team] of teams.entries()) await addTeamMember(deps.db, team.id, adminOf(i).id, "admin", NOW);
    const { key: apiKey } = await deps.services.apiKeys.create("sigkill");

    // Each team gets its own installation, and GitHub delivers installation.created for each of
    // them at the same moment: both paths write the same installation rows.
    const requests: FaultRequest[] = installations.flatMap((installation, i): FaultRequest[] => [
      { kind: "link", teamId: teams[i].id, installationId: installation.id, userId: adminOf(i).id },
      { kind: "delivery", deliveryId: `sigkill-${kind}-${i}`, installation },
    ]);
    const send = (url: string, r: FaultRequest) =>
      answer((signal) =>
        r.kind === "link"
          ? apiRequest(url, apiKey, "POST", `/api/teams/${r.teamId}/installations`, { body: { installationId: r.installationId }, user: r.userId, signal })
          : postWebhook(url, "installation", github.installationEvent("created", r.installation), { deliveryId: r.deliveryId, signal }),
      );

    const first = await startOctoplexProcess(env, { cwd });
    octoplex = first;
    // The 100 link requests at once, and GitHub's deliveries while they are being handled: 20 at
    // once, then two more for every link answered, so that both kinds are in flight together
    // whatever the database's speed. The kill comes once KILL_AFTER_EACH of each were acknowledged;
    // what was already on its way back still arrives, and counts as acknowledged.
    const acknowledged = { link: 0, delivery: 0 };
    let killing: Promise<void> | undefined;
    const deliveryTurns: Array<() => void> = [];
    let released = 0;
    const release = (n: number) => {
      for (const go of deliveryTurns.slice(released, (released += n))) go();
    };
    const pending = requests.map(async (r): Promise<Answer> => {
      if (r.kind === "delivery") await new Promise<void>((go) => deliveryTurns.push(go));
      const a = await send(first.url, r);
      if (isSuccess(a)) acknowledged[r.kind]++;
      if (r.kind === "link") release(2);
      if (acknowledged.link >= KILL_AFTER_EACH && acknowledged.delivery >= KILL_AFTER_EACH) killing ??= first.kill("SIGKILL");
      return a;
    });
    release(20);
    const answers = await Promise.all(pending);
    // Everything answered before the trigger fired: kill now, and the checks below say so.
    await (killing ?? first.kill("SIGKILL"));
    expect(await first.exit).toEqual({ code: null, signal: "SIGKILL" });

    const outcomes = requests.map((r, i) => ({ request: r, ...answers[i] }));
    const acked = outcomes.filter(isSuccess);
    const unacked = outcomes.filter((o) => !isSuccess(o));
    // Until the kill everything succeeded; after it, requests got no answer at all (not an error status).
    expect(outcomes.filter((o) => o.status !== 0 && !isSuccess(o)).map((o) => `${describeRequest(o.request)}: ${o.status} ${JSON.stringify(o.body)}`)).toEqual([]);
    // The kill came mid-way: some of each kind were acknowledged, some were not.
    expect(acked.length).toBeGreaterThanOrEqual(2 * KILL_AFTER_EACH);
    expect(unacked.length).toBeGreaterThan(0);
    const kinds = (list: typeof outcomes) => [...new Set(list.map((o) => o.request.kind))].sort();
    expect({ acknowledged: kinds(acked), unacknowledged: kinds(unacked) }).toEqual({ acknowledged: ["delivery", "link"], unacknowledged: ["delivery", "link"] });
    // First links answer 201 (a new row), never 200 (already there).
    expect(acked.filter((o) => o.request.kind === "link" && o.status !== 201).map((o) => describeRequest(o.request))).toEqual([]);

    // A fresh Octoplex on the same database.
    octoplex = await startOctoplexProcess(env, { cwd });
    const afterKill = await stored(deps.db);
    const missing = acked.flatMap(({ request: r }) => {
      if (r.kind === "link") return afterKill.links.has(linkKey(r)) && afterKill.installations.has(r.installationId) ? [] : [describeRequest(r)];
      return afterKill.deliveries.has(r.deliveryId) && afterKill.installations.has(r.installation.id) ? [] : [describeRequest(r)];
    });
    expect(missing).toEqual([]);
    expect(await duplicates(deps.db)).toEqual([]);
    // A link and its audit event commit together, or neither does.
    expect([...afterKill.audited].sort()).toEqual([...afterKill.links].sort());

    // The platform retries the links it got no answer for, GitHub redelivers the deliveries: a
    // link the killed process had committed answers 200 (already there), any other 201.
    const retried = await Promise.all(unacked.map(({ request }) => send(octoplex!.url, request)));
    expect(
      unacked.map(({ request }, i) => ({ request: describeRequest(request), status: retried[i].status })).filter(({ status }, i) => {
        const request = unacked[i].request;
        if (request.kind === "delivery") return status !== 200;
        return status !== (afterKill.links.has(linkKey(request)) ? 200 : 201);
      }),
    ).toEqual([]);

    const final = await stored(deps.db);
    const allLinks = requests.flatMap((r) => (r.kind === "link" ? [linkKey(r)] : [])).sort();
    expect([...final.links].sort()).toEqual(allLinks);
    expect([...final.audited].sort()).toEqual(allLinks);
    expect([...final.deliveries].sort()).toEqual(requests.flatMap((r) => (r.kind === "delivery" ? [r.deliveryId] : [])).sort());
    expect([...final.installations].sort((a, b) => a - b)).toEqual(installations.map((i) => i.id));
    expect(await duplicates(deps.db)).toEqual([]);
    // Exactly once, counted rather than as sets.
    const counts = await Promise.all(["team_installations", "webhook_deliveries", "installations"].map((table) => countRows(deps.db, table)));
    expect(counts).toEqual([REQUESTS_PER_KIND, REQUESTS_PER_KIND, REQUESTS_PER_KIND]);
  }, 90_000);

  test("killed while routed pushes are being acknowledged and their events dispatched: after a restart every push reaches each subscribed team exactly once (by webhook-id), in order per (team, repository)", async () => {
    await octoplex?.stop();
    const { deps } = host;
    const receiver = await startPlatformReceiver({ delayMs: 5 });
    try {
      const installationId = 830_001;
      await seedInstallation(deps.db, installationId);
      const teamIds = [await subscribedTeam(deps.db, "sigkill-push-1", installationId), await subscribedTeam(deps.db, "sigkill-push-2", installationId), await subscribedTeam(deps.db, "sigkill-push-3", installationId)];
      const repos = [{ id: 830_101, name: "api" }, { id: 830_102, name: "web" }];
      const pushes = Array.from({ length: PUSHES }, (_, i) => ({ deliveryId: `sigkill-push-${kind}-${i}`, repo: repos[i % 2], after: i.toString(16).padStart(40, "0") }));
      const send = (url: string, p: (typeof pushes)[number]) =>
        answer((signal) => postWebhook(url, "push", pushEvent(installationId, p.repo, p.after), { deliveryId: p.deliveryId, signal }));
      // A short attempt limit: the killed process's claims lapse after twice it and 5 s.
      const withPlatform = { ...env, ...platformEnv(receiver), PLATFORM_WEBHOOK_TIMEOUT: "2s" };

      const first = await startOctoplexProcess(withPlatform, { cwd });
      octoplex = first;
      // Half acknowledged and being dispatched; then the rest at once, killed mid-way.
      const early = await Promise.all(pushes.slice(0, PUSHES / 2).map((p) => send(first.url, p)));
      expect(early.filter((a) => !isSuccess(a))).toEqual([]);
      await waitUntil(() => receiver.accepted().length > 0, "the first events to reach the platform");
      let acknowledged = 0;
      let killing: Promise<void> | undefined;
      const late = await Promise.all(
        pushes.slice(PUSHES / 2).map(async (p) => {
          const a = await send(first.url, p);
          if (isSuccess(a) && ++acknowledged >= KILL_AFTER_EACH) killing ??= first.kill("SIGKILL");
          return a;
        }),
      );
      await (killing ?? first.kill("SIGKILL"));
      expect(await first.exit).toEqual({ code: null, signal: "SIGKILL" });
      const answers = [...early, ...late];
      // Not everything had reached the platform: the kill interrupted dispatch as well.
      expect(new Set(receiver.accepted().map((r) => r.webhookId)).size).toBeLessThan(PUSHES * teamIds.length);

      // Restarted; GitHub redelivers what got no answer.
      octoplex = await startOctoplexProcess(withPlatform, { cwd });
      const unanswered = pushes.filter((_, i) => !isSuccess(answers[i]));
      const retried = await Promise.all(unanswered.map((p) => send(octoplex!.url, p)));
      expect(retried.filter((a) => !isSuccess(a))).toEqual([]);

      // Claims of the killed process lapse after 2 × 2 s + 5 s.
      const distinct = () => new Map(receiver.accepted().map((r) => [r.webhookId, r.body]));
      await waitUntil(() => distinct().size >= PUSHES * teamIds.length, "every routed event to reach the platform", 60_000, 100);
      expect(receiver.received.filter((r) => r.verified !== true)).toEqual([]);
      const pairs = [...distinct().values()].map((b) => `${b.data.teamId as number}:${b.data.deliveryId as string}`).sort();
      expect(pairs).toEqual(teamIds.flatMap((t) => pushes.map((p) => `${t}:${p.deliveryId}`)).sort());
      const events = (await listOutboxEvents(deps.db)).filter((e) => e.type === "github.push");
      expect(events).toHaveLength(PUSHES * teamIds.length);
      expect(await countRows(deps.db, "github_event_payloads")).toBe(PUSHES);
      expectInOrderPerKey(events, { received: receiver.received.filter((r) => r.body.type === "github.push") });
    } finally {
      await octoplex?.stop();
      octoplex = undefined;
      await receiver.close();
    }
  }, 120_000);
});
