import { insertOutboxEventsForLinkedTeams, listOutboxEvents } from "../../../src/repositories/outbox";
import { describeEachDatabase } from "../../helpers/databases";
import { minutesAfterNow, NOW, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";

describeEachDatabase("outbox repository", ({ db }) => {
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
});
