import type { Knex } from "knex";
import { deleteLink } from "../../../src/repositories/links";
import { writeScope } from "../../../src/repositories/link-scopes";
import { listOutboxEvents } from "../../../src/repositories/outbox";
import {
  installationEvent,
  organizationMemberAddedEvent,
  pushEvent,
  repository,
  repositoryEvent,
  RepositoryFixture,
} from "../../fixtures/payloads";
import { databaseKinds } from "../../helpers/databases";
import { countRows } from "../../helpers/factories";
import { expectInOrderPerKey } from "../../helpers/outbox";
import { dispatchGithubEvents, platformServer, subscribedTeam } from "../../helpers/team-events";

const API: RepositoryFixture = { id: 11, name: "api" };
const WEB: RepositoryFixture = { id: 12, name: "web" };
const INSTALLATION = 301;
const OTHER_INSTALLATION = 302;

// Signed webhooks in, through the delivery ledger and the outbox, out to a platform receiver that
// verifies each Standard Webhooks signature.
describe.each(databaseKinds())("GitHub events routed to the teams that subscribe on %s", (kind) => {
  const env = platformServer(kind);
  const db = (): Knex => env.server.deps.db;


  async function send(event: string, payload: unknown, deliveryId?: string) {
    const res = await env.server.sendWebhook(event, payload, deliveryId ? { deliveryId } : undefined);
    expect(res.status).toBe(200);
  }
  const install = (id = INSTALLATION, repos = [repository(11, "acme/api"), repository(12, "acme/web")]) =>
    send("installation", installationEvent("created", { id, repositorySelection: "all" }, repos));
  const push = (f: RepositoryFixture, after: string, deliveryId?: string, installationId = INSTALLATION) =>
    send("push", pushEvent(installationId, f, after), deliveryId);
  const received = async () => (await dispatchGithubEvents(env.server, env.receiver)).map((r) => [r.body.data.teamId, r.body.type, (r.body.data.payload as { after?: string }).after]);

  test("a push reaches every team subscribed to push whose scope covers the repository, signed, GitHub's payload unchanged", async () => {
    await install();
    await install(OTHER_INSTALLATION, []);
    const all = await subscribedTeam(db(), "all", INSTALLATION);
    const listsApi = await subscribedTeam(db(), "lists-api", INSTALLATION, { scope: [11] });
    await subscribedTeam(db(), "lists-web", INSTALLATION, { scope: [12] });
    await subscribedTeam(db(), "pull-requests-only", INSTALLATION, { events: ["pull_request"] });
    await subscribedTeam(db(), "other-installation", OTHER_INSTALLATION);
    const payload = pushEvent(INSTALLATION, API, "a".repeat(40));

    await send("push", payload, "push-1");

    const accepted = await dispatchGithubEvents(env.server, env.receiver);
    expect(accepted.map((r) => r.body.data.teamId).sort()).toEqual([all, listsApi].sort());
    for (const r of accepted) {
      expect(r.body).toEqual({
        id: r.webhookId,
        type: "github.push",
        occurredAt: expect.any(String),
        data: {
          teamId: r.body.data.teamId,
          installationId: INSTALLATION,
          deliveryId: "push-1",
          event: "push",
          action: null,
          repository: { id: 11, fullName: "acme/api" },
          payload,
        },
      });
      expect(r.raw).toContain(`"payload":${JSON.stringify(payload)}}}`);
    }
  });

  test("the payload reaches the platform byte for byte as GitHub sent it: its spacing, escapes and number forms kept", async () => {
    await install();
    await subscribedTeam(db(), "all", INSTALLATION);
    // Pretty-printed, a \u escape and a trailing-zero number: JSON.parse then JSON.stringify would change all three.
    const body = JSON.stringify(pushEvent(INSTALLATION, API, "b".repeat(40)), null, 2).replace('"ref": "refs/heads/main"', '"ref": "refs/heads/\\u00e9t\u00e9", "size": 1.0');
    const res = await env.server.sendWebhook("push", undefined, { deliveryId: "push-raw", body });
    expect(res.status).toBe(200);

    const [event] = await dispatchGithubEvents(env.server, env.receiver);
    expect(event.raw.endsWith(`"payload":${body}}}`)).toBe(true);
    expect(event.body.data.payload).toEqual(JSON.parse(body));
  });

  test("an event that names no repository reaches every subscribed team linked to the installation, whatever its scope", async () => {
    await install();
    const all = await subscribedTeam(db(), "all", INSTALLATION, { events: ["organization"] });
    const listed = await subscribedTeam(db(), "listed", INSTALLATION, { scope: [12], events: ["organization"] });
    const none = await subscribedTeam(db(), "empty-list", INSTALLATION, { scope: [], events: ["organization"] });
    await subscribedTeam(db(), "push-only", INSTALLATION);

    await send("organization", organizationMemberAddedEvent(INSTALLATION, "newbie"), "org-1");

    const accepted = await dispatchGithubEvents(env.server, env.receiver);
    expect(accepted.map((r) => r.body.data.teamId).sort()).toEqual([all, listed, none].sort());
    expect(accepted[0].body.data).toMatchObject({ event: "organization", action: "member_added", repository: null, deliveryId: "org-1" });
    expect((await listOutboxEvents(db())).map((e) => e.orderingKey).sort()).toEqual(
      [all, listed, none].sort().map((t) => `team:${t}:installation:${INSTALLATION}`),
    );
  });

  test("a redelivered delivery adds nothing: each team receives it once", async () => {
    await install();
    const team = await subscribedTeam(db(), "all", INSTALLATION);
    await push(API, "b".repeat(40), "push-2");
    await push(API, "b".repeat(40), "push-2");

    expect(await received()).toEqual([[team, "github.push", "b".repeat(40)]]);
    expect(await countRows(db(), "outbox_events")).toBe(1);
    expect(await countRows(db(), "github_event_payloads")).toBe(1);
  });

  test("a narrowed scope, then an unlink, stop what the team no longer covers", async () => {
    await install();
    const team = await subscribedTeam(db(), "both", INSTALLATION, { scope: [11, 12] });
    await push(WEB, "1".repeat(40));
    await writeScope(db(), team, INSTALLATION, [11]);
    await push(WEB, "2".repeat(40));
    await push(API, "3".repeat(40));
    await deleteLink(db(), team, INSTALLATION);
    await push(API, "4".repeat(40));

    // Two repositories: two ordering keys, sent side by side.
    expect((await received()).sort()).toEqual([
      [team, "github.push", "1".repeat(40)],
      [team, "github.push", "3".repeat(40)],
    ]);
  });

  test("a suspended installation's events are not routed until it is unsuspended; a deleted one's never again", async () => {
    await install();
    const team = await subscribedTeam(db(), "all", INSTALLATION);
    await send("installation", installationEvent("suspend", { id: INSTALLATION, suspendedAt: "2026-11-02T00:00:00Z", suspendedBy: "octocat", updatedAt: "2026-11-02T00:00:00Z" }));
    await push(API, "5".repeat(40));
    await send("installation", installationEvent("unsuspend", { id: INSTALLATION, updatedAt: "2026-11-03T00:00:00Z" }));
    await push(API, "6".repeat(40));
    await send("installation", installationEvent("deleted", { id: INSTALLATION }));
    await push(API, "7".repeat(40));

    expect(await received()).toEqual([[team, "github.push", "6".repeat(40)]]);
    expect(await countRows(db(), "github_event_payloads")).toBe(1);
  });

  test("a delivery for three teams stores its payload once and three events that name it", async () => {
    await install();
    const teams = [await subscribedTeam(db(), "t1", INSTALLATION), await subscribedTeam(db(), "t2", INSTALLATION), await subscribedTeam(db(), "t3", INSTALLATION)];
    const payload = pushEvent(INSTALLATION, API, "c".repeat(40));
    await send("push", payload, "push-3");

    const stored = await db()("github_event_payloads").select("delivery_id", "payload");
    expect(stored).toEqual([{ delivery_id: "push-3", payload: JSON.stringify(payload) }]);
    const events = await listOutboxEvents(db());
    expect(events.map((e) => [e.teamId, e.githubDeliveryId])).toEqual(teams.map((t) => [t, "push-3"]));
    // The rows hold the envelope only; the payload is spliced in when sent.
    for (const e of events) expect((e.payload.data as Record<string, unknown>).payload).toBeNull();
    expect((await received()).map(([teamId]) => teamId).sort()).toEqual([...teams].sort());
  });

  test("deliveries arriving together (one batch) each reach every team once, with distinct message ids", async () => {
    await install();
    const teams = [await subscribedTeam(db(), "t1", INSTALLATION), await subscribedTeam(db(), "t2", INSTALLATION), await subscribedTeam(db(), "t3", INSTALLATION)];
    const afters = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(40, "e"));
    await Promise.all(afters.map((after, i) => push(i % 2 ? API : WEB, after)));

    expect(await countRows(db(), "github_event_payloads")).toBe(20);
    const accepted = await dispatchGithubEvents(env.server, env.receiver);
    expect(new Set(accepted.map((r) => r.webhookId)).size).toBe(60);
    for (const team of teams) {
      expect(accepted.filter((r) => r.body.data.teamId === team).map((r) => (r.body.data.payload as { after: string }).after).sort()).toEqual([...afters].sort());
    }
  });

  test("housekeeping purges events delivered longer ago than EVENT_RETENTION with the payload none names any more; pending ones keep theirs", async () => {
    await install();
    await subscribedTeam(db(), "t1", INSTALLATION);
    await subscribedTeam(db(), "t2", INSTALLATION);
    await push(API, "8".repeat(40), "old-push");
    expect(await received()).toHaveLength(2);
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    await db()("outbox_events").update({ delivered_at: eightDaysAgo, created_at: eightDaysAgo });
    await db()("github_event_payloads").update({ created_at: eightDaysAgo });
    env.receiver.mode = "error";
    await push(API, "9".repeat(40), "new-push");
    await env.server.deps.services.dispatcher!.dispatchDue();

    expect(await env.server.deps.services.housekeeping.purgeExpired()).toMatchObject({ events: 2, githubPayloads: 1 });

    expect((await listOutboxEvents(db())).map((e) => [e.githubDeliveryId, e.status])).toEqual([
      ["new-push", "pending"],
      ["new-push", "pending"],
    ]);
    expect(await db()("github_event_payloads").pluck("delivery_id")).toEqual(["new-push"]);
  });

  test("nothing is written for a delivery no team subscribes to but the delivery id", async () => {
    await install();
    await subscribedTeam(db(), "pull-requests", INSTALLATION, { events: ["pull_request"] });
    await push(API, "d".repeat(40), "push-4");

    expect(await countRows(db(), "outbox_events")).toBe(0);
    expect(await countRows(db(), "github_event_payloads")).toBe(0);
    expect(await db()("webhook_deliveries").where({ id: "push-4" }).first("event")).toEqual({ event: "push" });
  });

  test("each team receives each repository's pushes in the order GitHub sent them, ordered per (team, repository)", async () => {
    await install();
    const teams = [await subscribedTeam(db(), "t1", INSTALLATION), await subscribedTeam(db(), "t2", INSTALLATION, { scope: [12] })];
    const sent: Array<[RepositoryFixture, string]> = [];
    for (let i = 0; i < 8; i++) sent.push([i % 3 === 0 ? API : WEB, String(i).repeat(40)]);
    for (const [repo, after] of sent) await push(repo, after);

    const accepted = await dispatchGithubEvents(env.server, env.receiver);
    expectInOrderPerKey(await listOutboxEvents(db()), env.receiver);
    for (const team of teams) {
      for (const repo of [API, WEB]) {
        const got = accepted.filter((r) => r.body.data.teamId === team && (r.body.data.repository as { id: number }).id === repo.id);
        const expected = team === teams[1] && repo === API ? [] : sent.filter(([r]) => r === repo).map(([, after]) => after);
        expect(got.map((r) => (r.body.data.payload as { after: string }).after)).toEqual(expected);
      }
    }
    expect(new Set((await listOutboxEvents(db())).map((e) => e.orderingKey))).toEqual(
      new Set([`team:${teams[0]}:repo:11`, `team:${teams[0]}:repo:12`, `team:${teams[1]}:repo:12`]),
    );
  });

  test("a repository event is routed and kept in one transaction: one ledger entry, the repository stored, the subscribed team told", async () => {
    await install(INSTALLATION, []);
    const team = await subscribedTeam(db(), "repos", INSTALLATION, { events: ["repository"] });
    await send("repository", repositoryEvent("created", INSTALLATION, { id: 13, name: "docs" }), "repo-1");

    expect(await db()("installation_repositories").where({ installation_id: INSTALLATION }).pluck("full_name")).toEqual(["acme/docs"]);
    expect(await db()("webhook_deliveries").where({ id: "repo-1" }).count("* as n")).toEqual([{ n: kind === "postgres" ? "1" : 1 }]);
    const [event] = await dispatchGithubEvents(env.server, env.receiver);
    expect(event.body.data).toMatchObject({ teamId: team, event: "repository", action: "created", repository: { id: 13, fullName: "acme/docs" } });
  });

  test("a repository deleted on GitHub reaches the teams whose list named it, before it leaves their scope", async () => {
    await install();
    const team = await subscribedTeam(db(), "lists-api", INSTALLATION, { scope: [11], events: ["repository"] });
    await send("repository", repositoryEvent("deleted", INSTALLATION, API));

    expect(await db()("team_installation_repositories").where({ team_id: team }).count("* as n")).toEqual([{ n: kind === "postgres" ? "0" : 0 }]);
    expect((await dispatchGithubEvents(env.server, env.receiver)).map((r) => [r.body.data.teamId, r.body.data.action])).toEqual([[team, "deleted"]]);
  });
});
