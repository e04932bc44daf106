import { appendAuditEvents, appendAuditEventsForLinkedTeams, listAuditEvents } from "../../../src/repositories/audit-events";
import { describeEachDatabase, indexNames } from "../../helpers/databases";
import { deleteRoutedAuditBefore } from "../../../src/repositories/routed-event-audit";
import { auditEvent, countRows, minutesAfterNow, NOW, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";
import { explain } from "../../helpers/query-plan";

describeEachDatabase("audit events repository", ({ db }) => {
  test("appendAuditEvents stores 250 events from one call (more than one batch)", async () => {
    const events = Array.from({ length: 250 }, (_, i) => auditEvent({ teamId: (i % 5) + 1, action: `event.${i}` }));
    await appendAuditEvents(db(), events, NOW);

    expect(await countRows(db(), "audit_events")).toBe(250);
    const listed = await listAuditEvents(db(), {});
    expect(listed.map((e) => e.action)).toEqual(events.map((e) => e.action).reverse());
    expect(new Set(listed.map((e) => e.id)).size).toBe(250);
  });

  test("appendAuditEventsForLinkedTeams writes one event for each team linked to the installation, and none for other teams", async () => {
    await seedInstallation(db(), 1);
    await seedInstallation(db(), 2);
    const teams = await seedTeams(db(), 3);
    await seedLinks(db(), 1, [teams[0], teams[2]]);
    await seedLinks(db(), 2, [teams[1]]);

    await appendAuditEventsForLinkedTeams(db(), 1, { actor: { type: "github", id: null }, action: "installation.suspended", data: { by: "octocat" } }, NOW);

    const listed = await listAuditEvents(db(), {});
    expect(listed.map(({ teamId, installationId, actor, action, data, createdAt }) => ({ teamId, installationId, actor, action, data, createdAt }))).toEqual(
      [teams[2], teams[0]].map((t) => ({
        teamId: t.id,
        installationId: 1,
        actor: { type: "github", id: null },
        action: "installation.suspended",
        data: { by: "octocat" },
        createdAt: NOW,
      })),
    );
  });

  test("appending an empty list writes nothing", async () => {
    await appendAuditEvents(db(), [], NOW);
    expect(await countRows(db(), "audit_events")).toBe(0);
  });

  test("listAuditEvents lists the newest event first", async () => {
    await appendAuditEvents(db(), [auditEvent({ action: "first" })], NOW);
    await appendAuditEvents(db(), [auditEvent({ action: "second" }), auditEvent({ action: "third" })], minutesAfterNow(1));
    await appendAuditEvents(db(), [auditEvent({ action: "fourth" })], minutesAfterNow(2));

    const listed = await listAuditEvents(db(), {});
    expect(listed.map((e) => e.action)).toEqual(["fourth", "third", "second", "first"]);
    expect(listed.map((e) => e.createdAt)).toEqual([minutesAfterNow(2), minutesAfterNow(1), minutesAfterNow(1), NOW]);
  });

  test("listAuditEvents filters by team, by installation, and by both", async () => {
    await appendAuditEvents(
      db(),
      [
        auditEvent({ teamId: 1, installationId: 10, action: "a" }),
        auditEvent({ teamId: 1, installationId: 20, action: "b" }),
        auditEvent({ teamId: 2, installationId: 10, action: "c" }),
        auditEvent({ teamId: null, installationId: 10, action: "d" }),
        auditEvent({ teamId: 2, installationId: null, action: "e" }),
      ],
      NOW,
    );
    const actions = async (filter: Parameters<typeof listAuditEvents>[1]) => (await listAuditEvents(db(), filter)).map((e) => e.action);

    expect(await actions({ teamId: 1 })).toEqual(["b", "a"]);
    expect(await actions({ installationId: 10 })).toEqual(["d", "c", "a"]);
    expect(await actions({ teamId: 2, installationId: 10 })).toEqual(["c"]);
    expect(await actions({ teamId: 3 })).toEqual([]);
  });

  test("an event reads back with its actor, data, ids above 2^31 and creation time", async () => {
    const at = new Date("2026-11-20T12:34:56.789Z");
    await appendAuditEvents(
      db(),
      [
        auditEvent({
          teamId: 7,
          installationId: 3_000_000_000,
          actor: { type: "user", id: 4_000_000_000 },
          action: "team.installation.linked",
          data: { reason: "manual", repositories: ["acme/api"], nested: { ok: true } },
        }),
        auditEvent({ action: "no.data" }),
      ],
      at,
    );

    const [withoutData, linked] = await listAuditEvents(db(), {});
    expect(linked).toEqual({
      id: expect.any(Number),
      teamId: 7,
      installationId: 3_000_000_000,
      actor: { type: "user", id: 4_000_000_000 },
      apiKeyId: null,
      action: "team.installation.linked",
      data: { reason: "manual", repositories: ["acme/api"], nested: { ok: true } },
      createdAt: at,
    });
    expect(linked.createdAt).toBeInstanceOf(Date);
    expect(withoutData).toMatchObject({ teamId: null, installationId: null, actor: { type: "system", id: null }, data: {} });
  });

  test("the audit trail is indexed by team, not by installation, and that migration rolls back and forward again", async () => {
    const byInstallation = (names: string[]) => names.filter((n) => /installation_id/.test(n));
    expect(byInstallation(await indexNames(db(), "audit_events"))).toEqual([]);
    expect(await indexNames(db(), "audit_events")).toContain("audit_events_team_id_id_index");

    const name = "20261202010000_audit_events_by_team_only";
    expect((await db().migrate.down({ name }))[1]).toEqual([name]);
    expect(byInstallation(await indexNames(db(), "audit_events"))).toEqual(["audit_events_installation_id_index"]);
    expect((await db().migrate.up({ name }))[1]).toEqual([name]);
    expect(byInstallation(await indexNames(db(), "audit_events"))).toEqual([]);
  });

  test("deleteRoutedAuditBefore deletes routed events' rows written before the cutoff, chunk after chunk, and nothing else of the trail", async () => {
    const routed = (n: number) => Array.from({ length: n }, (_, i) => auditEvent({ teamId: 1, action: "github.push", data: { n: i } }));
    await appendAuditEvents(db(), [...routed(5), auditEvent({ teamId: 1, action: "team.installation.linked" }), auditEvent({ teamId: 1, action: "installation.suspended" })], NOW);
    await appendAuditEvents(db(), routed(1), minutesAfterNow(1));

    expect(await deleteRoutedAuditBefore(db(), minutesAfterNow(1), 2)).toBe(5);

    expect((await listAuditEvents(db(), {})).map((e) => e.action)).toEqual(["github.push", "installation.suspended", "team.installation.linked"]);
  });

  test("the purge of routed events' rows reads them through their partial index by created_at, not the whole trail; its migration rolls back and forward again", async () => {
    await appendAuditEvents(db(), [auditEvent({ teamId: 1, action: "github.push" }), auditEvent({ teamId: 1, action: "team.created" })], NOW);
    const index = "audit_events_routed_created_at_index";

    const plan = await explain(db(), (trx) => deleteRoutedAuditBefore(trx, NOW), { withoutSeqScan: true });
    expect(plan).toContain(index);
    expect(plan).not.toMatch(/Seq Scan on audit_events|^\s*SCAN audit_events\s*$/m);

    const name = "20261207090000_audit_events_routed_by_created_at";
    expect((await db().migrate.down({ name }))[1]).toEqual([name]);
    expect(await indexNames(db(), "audit_events")).not.toContain(index);
    expect((await db().migrate.up({ name }))[1]).toEqual([name]);
    expect(await indexNames(db(), "audit_events")).toContain(index);
  });
});
