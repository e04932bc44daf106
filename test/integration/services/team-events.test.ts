import type { Knex } from "knex";
import { addInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { createDeliveryLedger, Outcome } from "../../../src/services/events/delivery-ledger";
import { createTeamEvents, GithubEvent } from "../../../src/services/events/team-events";
import { describeEachDatabase, truncateAll } from "../../helpers/databases";
import { countRows, delivery, NOW, seedInstallation, storedRepository } from "../../helpers/factories";
import { subscribedTeam } from "../../helpers/team-events";
import { countTransactions } from "../../helpers/transactions";


const INSTALLATION = 401;

const push = (n: number, repositoryId: number | null): GithubEvent => ({
  deliveryId: `fan-${n}`,
  installationId: INSTALLATION,
  event: repositoryId === null ? "organization" : "push",
  action: repositoryId === null ? "member_added" : null,
  repository: repositoryId === null ? null : { id: repositoryId, fullName: `acme/repo-${repositoryId}` },
  // Characters of 2 and 4 bytes, in varying numbers: a batch's payloads are placed by byte offsets on SQLite.
  payload: JSON.stringify({ n, text: "é\"\\\n" + "😀".repeat(n % 3) }),
});

/** The outbox and payload rows, without what is random (message ids) or counted (ids; teams by their rank). */
async function written(db: Knex) {
  const teams = ((await db("teams").orderBy("id").pluck("id")) as unknown[]).map(Number);
  const rank = (id: unknown) => `#${teams.indexOf(Number(id))}`;
  const events = (await db("outbox_events").orderBy("id").select("type", "ordering_key", "team_id", "payload", "github_delivery_id", "status")).map((e) => {
    const payload = JSON.parse(e.payload as string);
    return {
      ...e,
      team_id: rank(e.team_id),
      ordering_key: (e.ordering_key as string).replace(/^team:(\d+)/, (_, id: string) => `team:${rank(id)}`),
      payload: { ...payload, id: typeof payload.id, data: { ...payload.data, teamId: rank(payload.data.teamId) } },
    };
  });
  const payloads = await db("github_event_payloads").orderBy("delivery_id").select("delivery_id", "event", "payload");
  return { events, payloads };
}

describeEachDatabase("GitHub events fanned out by the delivery ledger", ({ db }) => {
  async function arrange() {
    await seedInstallation(db(), INSTALLATION);
    await addInstallationRepositories(db(), INSTALLATION, [storedRepository(11, "acme/repo-11"), storedRepository(12, "acme/repo-12")]);
    await subscribedTeam(db(), "all", INSTALLATION, { events: ["push", "organization"] });
    await subscribedTeam(db(), "lists-11", INSTALLATION, { scope: [11], events: ["push", "organization"] });
    await subscribedTeam(db(), "org-only", INSTALLATION, { events: ["organization"] });
  }
  const deliveries = Array.from({ length: 12 }, (_, n) => push(n, n % 4 === 3 ? null : 11 + (n % 2)));

  async function fanOut(planned: boolean): Promise<{ outcomes: Outcome[]; transactions: number }> {
    const teamEvents = createTeamEvents({ ledger: createDeliveryLedger(db(), () => NOW, { planned }), now: () => NOW, retryForMs: 3600_000 });
    let outcomes: Outcome[] = [];
    const transactions = await countTransactions(db(), async () => {
      outcomes = await Promise.all(deliveries.map((e) => teamEvents.received(delivery(e.deliveryId, { event: e.event, installationId: INSTALLATION }), e)));
    });
    return { outcomes, transactions };
  }

  test("a batch of deliveries is one round trip (no knex transaction) and writes what applying them through knex writes", async () => {
    await arrange();
    const planned = await fanOut(true);
    expect(planned).toEqual({ outcomes: deliveries.map(() => "applied"), transactions: 0 });
    const byPlan = await written(db());

    await truncateAll(db());
    await arrange();
    const throughKnex = await fanOut(false);
    expect(throughKnex.transactions).toBeGreaterThan(0);
    expect(await written(db())).toEqual(byPlan);

    // 9 pushes (6 to repo 11: two teams, 3 to repo 12: one team) and 3 organization events (three teams).
    expect(byPlan.events).toHaveLength(6 * 2 + 3 + 3 * 3);
    expect(byPlan.payloads.map((p) => p.payload)).toEqual([...deliveries].sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : 1)).map((e) => e.payload));
    expect(new Set((await db()("outbox_events").pluck("message_id")) as string[]).size).toBe(byPlan.events.length);
  });

  test("a redelivery in a later batch is a duplicate and writes nothing", async () => {
    await arrange();
    await fanOut(true);
    const before = await written(db());
    const again = await fanOut(true);
    expect(again.outcomes).toEqual(deliveries.map(() => "duplicate"));
    expect(await written(db())).toEqual(before);
    expect(await countRows(db(), "webhook_deliveries")).toBe(deliveries.length);
  });
});
