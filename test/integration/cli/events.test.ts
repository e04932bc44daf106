import { migrateLatest } from "../../../src/db/migrate";
import { listOutboxEvents } from "../../../src/repositories/outbox";
import { markAttemptFailed, markDelivered } from "../../../src/repositories/outbox-dispatch";
import { createEventRecorder } from "../../../src/services/events/platform-events";
import { createCliTarget, CliTarget } from "../../helpers/cli";
import { databaseKinds, truncateAll } from "../../helpers/databases";
import { minutesAfterNow, NOW, seedInstallation } from "../../helpers/factories";
import { insertGithubEvents } from "../../../src/repositories/github-event-outbox";
import { subscribedTeam } from "../../helpers/team-events";

const CREATED = NOW.toISOString();

describe.each(databaseKinds())("octoplex events on %s", (kind) => {
  let target: CliTarget;
  let ids: { delivered: number; failed: number; pending: number; retrying: number };
  const db = () => target.db;
  const json = (lines: string[]) => JSON.parse(lines.join("\n"));
  /** Table rows split into cells (columns are separated by two spaces or more). */
  const cells = (lines: string[]) => lines.map((line) => line.split(/ {2,}/));

  beforeAll(async () => {
    target = await createCliTarget(kind);
    await migrateLatest(db());
  });
  beforeEach(async () => {
    await truncateAll(db());
    const recorder = createEventRecorder({ now: () => NOW, retryForMs: 24 * 3600_000 });
    await db().transaction((trx) =>
      recorder.record(trx, [
        { type: "team.installation.linked", teamId: 7, subject: "installation:101", data: { teamId: 7, installationId: 101, linkedBy: 5001 } },
        { type: "installation.deleted", subject: "installation:102", data: { installationId: 102, teamIds: [7, 8], reason: "installation_deleted" } },
        { type: "team.installation.unlinked", teamId: 8, subject: "installation:102", data: { teamId: 8, installationId: 102, reason: "installation_deleted" } },
        { type: "user.reauthorization_required", subject: "user:5001", data: { githubUserId: 5001, reason: "refresh token expired" } },
      ]),
    );
    const [delivered, failed, pending, retrying] = (await listOutboxEvents(db())).map((e) => e.id);
    ids = { delivered, failed, pending, retrying };
    await markDelivered(db(), [delivered], minutesAfterNow(1));
    await markAttemptFailed(db(), failed, "HTTP 500", minutesAfterNow(5), NOW);
    await markAttemptFailed(db(), failed, "timed out after 10000 ms", null, minutesAfterNow(5));
    await markAttemptFailed(db(), retrying, "fetch failed", minutesAfterNow(2), NOW);
  });
  afterAll(() => target?.close());

  test("events list prints every event, oldest first, with status, attempts and the last error", async () => {
    const run = await target.run(["events", "list"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(cells(run.out)).toEqual([
      ["ID", "TYPE", "TEAM", "STATUS", "ATTEMPTS", "CREATED", "LAST ERROR"],
      [String(ids.delivered), "team.installation.linked", "7", "delivered", "1", CREATED, "-"],
      [String(ids.failed), "installation.deleted", "-", "failed", "2", CREATED, "timed out after 10000 ms"],
      [String(ids.pending), "team.installation.unlinked", "8", "pending", "0", CREATED, "-"],
      [String(ids.retrying), "user.reauthorization_required", "-", "pending", "1", CREATED, "fetch failed"],
    ]);
  });

  test("events list shows a routed GitHub event by type and team; --json leaves out GitHub's payload, stored once for all its teams", async () => {
    await seedInstallation(db(), 201);
    const teamId = await subscribedTeam(db(), "pushes", 201);
    const payload = JSON.stringify({ ref: "refs/heads/main", commits: [{ message: "x".repeat(200_000) }] });
    await db().transaction((trx) =>
      insertGithubEvents(trx, [{ deliveryId: "d-big", installationId: 201, event: "push", action: null, repository: { id: 11, fullName: "acme/api" }, payload }], NOW, minutesAfterNow(60)),
    );

    const table = await target.run(["events", "list"]);
    expect(cells(table.out).at(-1)).toEqual([expect.any(String), "github.push", String(teamId), "pending", "0", CREATED, "-"]);
    const listed = await target.run(["events", "list", "--json"]);
    expect(listed.out.join("\n").length).toBeLessThan(10_000);
    expect(json(listed.out).at(-1)).toMatchObject({
      type: "github.push",
      orderingKey: `team:${teamId}:repo:11`,
      githubDeliveryId: "d-big",
      payload: { type: "github.push", data: { teamId, installationId: 201, deliveryId: "d-big", event: "push", action: null, repository: { id: 11, fullName: "acme/api" }, payload: null } },
    });
  });

  test("events list --failed prints only the events that ran out of retries", async () => {
    const run = await target.run(["events", "list", "--failed"]);

    expect(run.exitCode).toBe(0);
    expect(cells(run.out)).toEqual([
      ["ID", "TYPE", "TEAM", "STATUS", "ATTEMPTS", "CREATED", "LAST ERROR"],
      [String(ids.failed), "installation.deleted", "-", "failed", "2", CREATED, "timed out after 10000 ms"],
    ]);
  });

  test("events list --json prints each event with its payload; --failed --json only the failed", async () => {
    const all = await target.run(["events", "list", "--json"]);

    expect(all.exitCode).toBe(0);
    const events = json(all.out) as Array<Record<string, unknown>>;
    expect(events.map((e) => [e.id, e.type, e.teamId, e.status, e.attempts])).toEqual([
      [ids.delivered, "team.installation.linked", 7, "delivered", 1],
      [ids.failed, "installation.deleted", null, "failed", 2],
      [ids.pending, "team.installation.unlinked", 8, "pending", 0],
      [ids.retrying, "user.reauthorization_required", null, "pending", 1],
    ]);
    expect(events[1]).toEqual({
      id: ids.failed,
      messageId: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
      type: "installation.deleted",
      orderingKey: "installation:102",
      teamId: null,
      payload: {
        id: events[1].messageId,
        type: "installation.deleted",
        occurredAt: CREATED,
        data: { installationId: 102, teamIds: [7, 8], reason: "installation_deleted" },
      },
      status: "failed",
      attempts: 2,
      nextAttemptAt: minutesAfterNow(5).toISOString(),
      giveUpAt: new Date(NOW.getTime() + 24 * 3600_000).toISOString(),
      lastError: "timed out after 10000 ms",
      createdAt: CREATED,
      deliveredAt: null,
      githubDeliveryId: null,
    });
    expect(events[0].deliveredAt).toBe(minutesAfterNow(1).toISOString());

    const failed = await target.run(["events", "list", "--failed", "--json"]);
    expect((json(failed.out) as Array<{ id: number }>).map((e) => e.id)).toEqual([ids.failed]);
  });

  test("events list says (none) when there is nothing; --json prints []", async () => {
    await truncateAll(db());
    expect((await target.run(["events", "list"])).out).toEqual(["(none)"]);
    expect(json((await target.run(["events", "list", "--json"])).out)).toEqual([]);
    expect((await target.run(["events", "list", "--failed"])).out).toEqual(["(none)"]);
  });

  test("events retry ID puts a failed event back in line; without PLATFORM_WEBHOOK_URL it only queues it", async () => {
    const run = await target.run(["events", "retry", String(ids.failed)]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual(["Queued 1 event(s) again"]);
    const event = (await listOutboxEvents(db())).find((e) => e.id === ids.failed)!;
    expect([event.status, event.attempts, event.lastError]).toEqual(["pending", 2, "timed out after 10000 ms"]);
    expect(Math.abs(event.nextAttemptAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(event.giveUpAt.getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);
  });

  test.each([
    ["an event that is not failed", () => ["events", "retry", String(ids.pending)], () => `octoplex: event ${ids.pending} is not a failed event`],
    ["an id that names no event", () => ["events", "retry", "999999"], () => "octoplex: event 999999 is not a failed event"],
    ["no id and no --all-failed", () => ["events", "retry"], () => "octoplex: give an event id or --all-failed"],
    ["an id that is not a number", () => ["events", "retry", "abc"], () => 'octoplex: id must be a positive integer, got "abc"'],
  ])("events retry refuses %s and changes nothing", async (_what, argv, message) => {
    const before = await listOutboxEvents(db());
    const run = await target.run(argv());

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual([message()]);
    expect(await listOutboxEvents(db())).toEqual(before);
  });
});
