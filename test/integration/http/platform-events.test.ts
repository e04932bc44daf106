import { addTeamMember } from "../../../src/repositories/teams";
import { listOutboxEvents } from "../../../src/repositories/outbox";
import { installationEvent } from "../../fixtures/payloads";
import type { Browser } from "../../helpers/browser";
import { request } from "../../helpers/browser";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "../../helpers/databases";
import { E2E, startE2E } from "../../helpers/e2e";
import { countRows, NOW, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";
import { expectError, writeCounts } from "../../helpers/http-expect";
import { failOutboxInserts, outboxSummary } from "../../helpers/outbox";
import { newPlatformSecret, platformEnv } from "../../helpers/platform-receiver";
import { ALICE, BOB, seedSignedInUser } from "../../helpers/users";

const ACME = { id: 9001, login: "acme" };

// Nothing listens there: these servers run no dispatcher, so what they record stays pending.
const PLATFORM = { url: "http://127.0.0.1:9/events", secret: newPlatformSecret() };

// The outbox is written in the transaction of the change that causes each event.
describe.each(databaseKinds())("events to the platform are recorded with their change on %s", (kind) => {
  let database: TestDatabase;
  /** PLATFORM_WEBHOOK_URL set. */
  let e2e: E2E;
  /** The same database, without PLATFORM_WEBHOOK_URL. */
  let plain: E2E;
  let bob: Browser;
  let teamId: number;
  let acmeId: number;
  const db = () => e2e.db;

  const link = (server: E2E, browser: Browser, team: number, installationId: number) =>
    browser.json("POST", server.url(`/api/teams/${team}/installations`), { installationId });
  const unlink = (server: E2E, browser: Browser, team: number, installationId: number) =>
    browser.json("DELETE", server.url(`/api/teams/${team}/installations/${installationId}`));

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    e2e = await startE2E(database, platformEnv(PLATFORM));
    plain = await startE2E(database);
  });
  beforeEach(async () => {
    await e2e.reset();
    plain.github.reset();
    const acme = e2e.github.world.addOrg(ACME);
    e2e.github.world.setMembership(acme, BOB, "admin");
    acmeId = e2e.github.world.install(acme).id;
    bob = await e2e.signIn(BOB);
    teamId = ((await bob.json("POST", e2e.url("/api/teams"), { name: "Team B" })).body as { id: number }).id;
  });
  afterAll(async () => {
    await plain?.close();
    await e2e?.close();
    await database?.drop();
  });

  test("POST …/installations records team.installation.linked; DELETE records team.installation.unlinked with reason user", async () => {
    expect((await link(e2e, bob, teamId, acmeId)).status).toBe(201);
    // Linking again writes nothing, so it announces nothing.
    expect((await link(e2e, bob, teamId, acmeId)).status).toBe(200);
    expect((await unlink(e2e, bob, teamId, acmeId)).status).toBe(204);

    const events = await listOutboxEvents(db());
    expect(events.map((e) => [e.type, e.teamId, e.orderingKey, e.status, e.attempts])).toEqual([
      ["team.installation.linked", teamId, `team:${teamId}`, "pending", 0],
      ["team.installation.unlinked", teamId, `team:${teamId}`, "pending", 0],
    ]);
    expect(events.map((e) => e.payload)).toEqual([
      { id: events[0].messageId, type: "team.installation.linked", occurredAt: expect.any(String), data: { teamId, installationId: acmeId, linkedBy: BOB.id, repositories: "all" } },
      { id: events[1].messageId, type: "team.installation.unlinked", occurredAt: expect.any(String), data: { teamId, installationId: acmeId, reason: "user" } },
    ]);
    expect(events[0].messageId).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(events[0].messageId).not.toBe(events[1].messageId);
    // Retried for 24 hours.
    expect(events[0].giveUpAt.getTime() - events[0].createdAt.getTime()).toBe(24 * 3600_000);
  });

  test("a link whose transaction fails leaves no link, no installation, no audit event and no event", async () => {
    const before = await writeCounts(db());
    const restore = await failOutboxInserts(db());
    try {
      const hop = await link(e2e, bob, teamId, acmeId);
      expectError(hop, 500, "internal");
    } finally {
      await restore();
    }
    expect(await writeCounts(db())).toEqual(before);
    expect(await countRows(db(), "outbox_events")).toBe(0);

    // Once the outbox can be written again, the same link works and is announced once.
    expect((await link(e2e, bob, teamId, acmeId)).status).toBe(201);
    expect(await outboxSummary(db())).toEqual([["team.installation.linked", teamId, { teamId, installationId: acmeId, linkedBy: BOB.id, repositories: "all" }]]);
  });

  test("linking an installation deleted meanwhile (tombstoned) is 404 and records no event", async () => {
    await e2e.server.sendWebhook("installation", e2e.github.installationEvent("deleted", e2e.github.world.installation(acmeId)!));
    await db()("outbox_events").delete(); // the deletion's own event
    const before = await writeCounts(db());

    expectError(await link(e2e, bob, teamId, acmeId), 404, "not_found");

    expect(await writeCounts(db())).toEqual(before);
    expect(await countRows(db(), "outbox_events")).toBe(0);
  });

  test("installation.deleted for an installation linked to 3 teams records installation.deleted (teamIds) and 3 team.installation.unlinked (installation_deleted) in its transaction", async () => {
    await seedInstallation(db(), 501);
    const teams = await seedTeams(db(), 4, "other");
    await seedLinks(db(), 501, teams.slice(0, 3));
    const teamIds = teams.slice(0, 3).map((t) => t.id);

    // The outbox insert fails: the whole delivery rolls back, links and installation stay, and
    // the delivery id is not recorded, so a redelivery applies it.
    const restore = await failOutboxInserts(db());
    try {
      const failed = await e2e.server.sendWebhook("installation", installationEvent("deleted", { id: 501 }), { deliveryId: "del-501" });
      expect(failed.status).toBe(500);
    } finally {
      await restore();
    }
    expect(await countRows(db(), "team_installations")).toBe(3);
    expect(await countRows(db(), "installations")).toBe(1);
    expect(await countRows(db(), "webhook_deliveries")).toBe(0);
    expect(await countRows(db(), "outbox_events")).toBe(0);

    expect((await e2e.server.sendWebhook("installation", installationEvent("deleted", { id: 501 }), { deliveryId: "del-501" })).status).toBe(200);

    const events = await listOutboxEvents(db());
    expect(events.map((e) => [e.type, e.teamId, e.orderingKey, e.payload.data])).toEqual([
      ["installation.deleted", null, "installation:501", { installationId: 501, teamIds, reason: "installation_deleted" }],
      ...teamIds.map((id) => ["team.installation.unlinked", id, `team:${id}`, { teamId: id, installationId: 501, reason: "installation_deleted" }]),
    ]);
    // One transaction: written at one instant, consecutive ids, with the links gone and the delivery recorded.
    expect(new Set(events.map((e) => e.createdAt.toISOString())).size).toBe(1);
    expect(events.map((e) => e.id - events[0].id)).toEqual([0, 1, 2, 3]);
    expect(await countRows(db(), "team_installations")).toBe(0);
    expect(await db()("webhook_deliveries").pluck("id")).toEqual(["del-501"]);

    // A redelivery of the applied delivery announces nothing more.
    expect((await e2e.server.sendWebhook("installation", installationEvent("deleted", { id: 501 }), { deliveryId: "del-501" })).status).toBe(200);
    expect(await countRows(db(), "outbox_events")).toBe(4);
  });

  test("suspend and unsuspend webhooks record installation.suspended and installation.unsuspended naming the linked teams", async () => {
    await seedInstallation(db(), 601);
    const teams = await seedTeams(db(), 2, "other");
    await seedLinks(db(), 601, teams);
    const suspendedAt = "2026-11-21T09:00:00Z";
    await e2e.server.sendWebhook("installation", installationEvent("suspend", { id: 601, suspendedAt, suspendedBy: "octocat", updatedAt: suspendedAt }));
    await e2e.server.sendWebhook("installation", installationEvent("unsuspend", { id: 601, updatedAt: "2026-11-22T09:00:00Z" }));

    const teamIds = teams.map((t) => t.id);
    expect(await outboxSummary(db())).toEqual([
      ["installation.suspended", null, { installationId: 601, teamIds, suspendedBy: "octocat" }],
      ["installation.unsuspended", null, { installationId: 601, teamIds }],
    ]);
  });

  test("a dead refresh token records user.reauthorization_required with the 401 that tells the user", async () => {
    // A refresh token the (fake) GitHub does not know: refused as bad_refresh_token.
    await seedSignedInUser(e2e.server.deps, ALICE, { expiresInMs: 60_000 });
    await addTeamMember(db(), teamId, ALICE.id, "member", NOW);
    const session = await e2e.server.deps.services.auth!.sessions.create(ALICE.id);

    const hop = await request(e2e.url(`/api/teams/${teamId}/installations/available`), { cookie: `octoplex_session=${session.id}` });

    expectError(hop, 401, "reauthorization_required");
    expect(await outboxSummary(db())).toEqual([
      ["user.reauthorization_required", null, { githubUserId: ALICE.id, reason: expect.stringContaining("bad_refresh_token") }],
    ]);
    expect((await listOutboxEvents(db()))[0].orderingKey).toBe(`user:${ALICE.id}`);
  });

  test("without PLATFORM_WEBHOOK_URL nothing is recorded: links, unlinks, deletions, suspensions and dead refresh tokens", async () => {
    await truncateAll(db());
    const acme = plain.github.world.addOrg(ACME);
    plain.github.world.setMembership(acme, BOB, "admin");
    const installationId = plain.github.world.install(acme).id;
    const bobPlain = await plain.signIn(BOB);
    const team = ((await bobPlain.json("POST", plain.url("/api/teams"), { name: "Plain" })).body as { id: number }).id;

    expect((await link(plain, bobPlain, team, installationId)).status).toBe(201);
    expect((await unlink(plain, bobPlain, team, installationId)).status).toBe(204);
    expect((await link(plain, bobPlain, team, installationId)).status).toBe(201);
    await plain.server.sendWebhook("installation", installationEvent("suspend", { id: installationId, account: { ...ACME, type: "Organization" }, suspendedAt: "2026-11-21T09:00:00Z", updatedAt: "2099-01-01T00:00:00Z" }));
    await plain.server.sendWebhook("installation", installationEvent("deleted", { id: installationId, account: { ...ACME, type: "Organization" } }));
    await seedSignedInUser(plain.server.deps, ALICE, { expiresInMs: 60_000 });
    await addTeamMember(db(), team, ALICE.id, "member", NOW);
    const session = await plain.server.deps.services.auth!.sessions.create(ALICE.id);
    expectError(await request(plain.url(`/api/teams/${team}/installations/available`), { cookie: `octoplex_session=${session.id}` }), 401, "reauthorization_required");

    // The audit trail has it all; the outbox nothing.
    expect(await db()("audit_events").where({ team_id: team }).orderBy("id").pluck("action")).toEqual([
      "team.created",
      "team.installation.linked",
      "team.installation.unlinked",
      "team.installation.linked",
      "installation.suspended",
      "team.installation.unlinked",
    ]);
    expect(await countRows(db(), "outbox_events")).toBe(0);
  });
});
