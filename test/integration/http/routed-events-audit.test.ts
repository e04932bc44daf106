import type { Knex } from "knex";
import { appendAuditEvents } from "../../../src/repositories/audit-events";
import { listOutboxEvents, requeueFailed } from "../../../src/repositories/outbox";
import { installationEvent, organizationMemberAddedEvent, pushEvent, repository, RepositoryFixture } from "../../fixtures/payloads";
import { databaseKinds } from "../../helpers/databases";
import { auditEvent } from "../../helpers/factories";
import type { TestUser } from "../../helpers/github-oauth";
import { createOpenApiValidator, fetchChecked } from "../../helpers/openapi-validator";
import { signedInMember, SignedInMember } from "../../helpers/team-access";
import { dispatchGithubEvents, platformServer, subscribedTeam } from "../../helpers/team-events";
import { ALICE, BOB } from "../../helpers/users";

const CAROL: TestUser = { id: 5003, login: "carol" };
const API: RepositoryFixture = { id: 11, name: "api" };
const INSTALLATION = 311;
const DAY = 24 * 3600_000;

interface AuditEventJson {
  id: number;
  teamId: number;
  installationId: number | null;
  actor: { type: string; id: number | null };
  apiKeyId: number | null;
  action: string;
  data: Record<string, unknown>;
  createdAt: string;
}

// Signed webhooks in, the dispatcher out to a platform receiver, then the team's audit trail as a
// member reads it over HTTP, each answer checked against openapi.yaml.
describe.each(databaseKinds())("routed GitHub events in the team's audit trail on %s", (kind) => {
  const env = platformServer(kind);
  const openapi = createOpenApiValidator();
  const db = (): Knex => env.server.deps.db;


  async function send(event: string, payload: unknown, deliveryId?: string) {
    const res = await env.server.sendWebhook(event, payload, deliveryId ? { deliveryId } : undefined);
    expect(res.status).toBe(200);
  }
  const install = () => send("installation", installationEvent("created", { id: INSTALLATION, repositorySelection: "all" }, [repository(11, "acme/api"), repository(12, "acme/web")]));
  const push = (after: string, deliveryId: string) => send("push", pushEvent(INSTALLATION, API, after), deliveryId);

  /** The team's whole trail as `member` reads it, and the answer's text. */
  async function audit(member: SignedInMember, teamId: number): Promise<{ events: AuditEventJson[]; text: string }> {
    const res = await fetchChecked(openapi, `${env.server.url}/api/teams/${teamId}/audit?limit=200`, { cookie: member.cookie });
    expect(res.status).toBe(200);
    return { events: (res.body as { events: AuditEventJson[] }).events, text: res.text };
  }
  const routed = async (member: SignedInMember, teamId: number) => (await audit(member, teamId)).events.filter((e) => e.action.startsWith("github."));
  const webhookIdOf = (teamId: number, type = "github.push") => env.receiver.accepted().find((r) => r.body.data.teamId === teamId && r.body.type === type)!.webhookId;

  test("GET /api/teams/:teamId/audit shows each routed event once it is delivered, with its delivery id, repository and outcome, and never its payload", async () => {
    await install();
    const team = await subscribedTeam(db(), "all", INSTALLATION, { events: ["push", "organization"] });
    const other = await subscribedTeam(db(), "also-all", INSTALLATION);
    const elsewhere = await subscribedTeam(db(), "lists-web", INSTALLATION, { scope: [12] });
    const alice = await signedInMember(env.server.deps, ALICE, team);
    const bob = await signedInMember(env.server.deps, BOB, other);
    const carol = await signedInMember(env.server.deps, CAROL, elsewhere);
    const after = "a".repeat(40);
    await push(after, "push-1");
    await send("organization", organizationMemberAddedEvent(INSTALLATION, "newbie"), "org-1");

    // Taken in, not yet delivered: nothing to show.
    expect(await routed(alice, team)).toEqual([]);

    expect(await dispatchGithubEvents(env.server, env.receiver)).toHaveLength(3);

    const outcome = (teamId: number, type: string, data: Record<string, unknown>) => ({
      id: expect.any(Number),
      teamId,
      installationId: INSTALLATION,
      actor: { type: "github", id: null },
      apiKeyId: null,
      action: type,
      data: { eventId: webhookIdOf(teamId, type), ...data, outcome: "delivered", attempts: 1 },
      createdAt: expect.any(String),
    });
    const pushed = { deliveryId: "push-1", event: "push", action: null, repository: { id: 11, fullName: "acme/api" } };
    const { events, text } = await audit(alice, team);
    expect(events.filter((e) => e.action.startsWith("github."))).toEqual([
      outcome(team, "github.organization", { deliveryId: "org-1", event: "organization", action: "member_added", repository: null }),
      outcome(team, "github.push", pushed),
    ]);
    expect(text).not.toContain(after);
    expect(text).not.toContain("payload");
    // Another team subscribed to the same installation sees its own row only, for its own event.
    expect(await routed(bob, other)).toEqual([outcome(other, "github.push", pushed)]);
    expect(webhookIdOf(other)).not.toBe(webhookIdOf(team));
    // A team whose scope leaves the repository out received nothing, and its trail says nothing.
    expect(await routed(carol, elsewhere)).toEqual([]);
  });

  test("an event the platform refused until its retry window ended shows in the team's audit as failed with the last error", async () => {
    await install();
    const team = await subscribedTeam(db(), "all", INSTALLATION);
    const alice = await signedInMember(env.server.deps, ALICE, team);
    env.receiver.mode = "error";
    await push("b".repeat(40), "push-2");

    expect(await env.server.deps.services.dispatcher!.dispatchDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    // Still being retried: no outcome yet.
    expect(await routed(alice, team)).toEqual([]);

    // The retry window ends: the next refusal is the last.
    const past = new Date(Date.now() - 1000).toISOString();
    await db()("outbox_events").update({ give_up_at: past, next_attempt_at: past });
    expect(await env.server.deps.services.dispatcher!.dispatchDue()).toEqual({ delivered: 0, retrying: 0, failed: 1 });

    const failed = { deliveryId: "push-2", event: "push", action: null, repository: { id: 11, fullName: "acme/api" }, outcome: "failed", attempts: 2, lastError: "HTTP 500" };
    const { events, text } = await audit(alice, team);
    expect(events.filter((e) => e.action.startsWith("github.")).map((e) => [e.action, e.data])).toEqual([["github.push", { eventId: expect.any(String), ...failed }]]);
    expect(events[0].data.eventId).toBe(env.receiver.received[0].webhookId);
    // The env.receiver's answer ("down for maintenance") is not the error: the status is.
    expect(text).not.toContain("maintenance");

    // `octoplex events retry`: sent again and accepted, a later row says so.
    env.receiver.mode = "ok";
    expect(await requeueFailed(db(), "all", new Date(), new Date(Date.now() + DAY))).toBe(1);
    expect(await dispatchGithubEvents(env.server, env.receiver)).toHaveLength(1);
    expect((await routed(alice, team)).map((e) => [e.data.outcome, e.data.attempts])).toEqual([
      ["delivered", 3],
      ["failed", 2],
    ]);
  });

  test("housekeeping purges routed events' audit rows older than EVENT_RETENTION and keeps the team's other audit rows", async () => {
    await install();
    const team = await subscribedTeam(db(), "all", INSTALLATION);
    const alice = await signedInMember(env.server.deps, ALICE, team);
    await push("c".repeat(40), "old-push");
    expect(await dispatchGithubEvents(env.server, env.receiver)).toHaveLength(1);
    const eightDaysAgo = new Date(Date.now() - 8 * DAY);
    await db()("audit_events").update({ created_at: eightDaysAgo.toISOString() });
    await appendAuditEvents(db(), [auditEvent({ teamId: team, installationId: INSTALLATION, action: "team.installation.linked", data: { repositories: "all" } })], eightDaysAgo);
    await push("d".repeat(40), "new-push");
    await dispatchGithubEvents(env.server, env.receiver);

    expect(await env.server.deps.services.housekeeping.purgeExpired()).toMatchObject({ githubAudit: 1 });

    const { events } = await audit(alice, team);
    expect(events.map((e) => [e.action, e.data.deliveryId ?? e.data.repositories])).toEqual([
      ["github.push", "new-push"],
      ["team.installation.linked", "all"],
    ]);
    expect(await env.server.deps.services.housekeeping.purgeExpired()).toMatchObject({ githubAudit: 0 });
  });

  test("Octoplex's own team events get no second audit row from the dispatcher: one per action, as written when it happened", async () => {
    await install();
    const team = await subscribedTeam(db(), "all", INSTALLATION);
    const alice = await signedInMember(env.server.deps, ALICE, team);
    await push("e".repeat(40), "push-3");
    await send("installation", installationEvent("deleted", { id: INSTALLATION }));

    await env.server.deps.services.dispatcher!.dispatchDue();

    expect(env.receiver.accepted().map((r) => r.body.type).sort()).toEqual(["github.push", "installation.deleted", "team.installation.unlinked"]);
    expect((await listOutboxEvents(db())).every((e) => e.status === "delivered")).toBe(true);
    expect((await audit(alice, team)).events.map((e) => e.action)).toEqual(["github.push", "team.installation.unlinked"]);
  });
});
