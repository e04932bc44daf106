import { createHookDeliveries, FakeHookDeliveries } from "../fakes/github-hook-deliveries";
import { CliTarget, createCliTarget } from "../helpers/cli";
import { TEST_WEBHOOK_SECRET } from "../helpers/config";
import { databaseKinds } from "../helpers/databases";
import { E2E, startE2E } from "../helpers/e2e";

const ACME = { id: 9001, login: "acme" };
const GLOBEX = { id: 9002, login: "globex" };

// `octoplex redeliver` against the fake GitHub over loopback, next to the running server on the
// same database: GitHub's log of attempts says what failed, the redelivery reaches the server.
describe.each(databaseKinds())("octoplex redeliver against the fake GitHub on %s", (kind) => {
  let cli: CliTarget;
  let e2e: E2E;
  let hooks: FakeHookDeliveries;
  const ghe = () => ({ GHE_HOST: new URL(e2e.github.url).host, GHE_PROTOCOL: "http" });

  beforeAll(async () => {
    cli = await createCliTarget(kind);
    e2e = await startE2E(cli.database);
    hooks = createHookDeliveries({ url: e2e.url("/api/github/webhooks"), secret: TEST_WEBHOOK_SECRET });
    e2e.github.addRoutes(hooks.routes);
  });
  beforeEach(async () => {
    await e2e.reset();
    hooks.reset();
  });
  afterAll(async () => {
    await e2e?.close();
    await cli?.close();
  });

  test("deliveries GitHub could not make while Octoplex was down are asked for again, applied once, and not asked for twice", async () => {
    const { github, db } = e2e;
    const globex = github.world.install(github.world.addOrg(GLOBEX));
    const delivered = await hooks.deliver("installation", github.installationEvent("created", globex));
    expect(delivered.status_code).toBe(200);
    // Octoplex goes down: globex is uninstalled and acme installed meanwhile.
    const uninstalled = await hooks.deliver("installation", github.installationEvent("deleted", globex), { down: true });
    const acme = github.world.install(github.world.addOrg(ACME));
    const missed = await hooks.deliver("installation", github.installationEvent("created", acme), { down: true });
    expect(await db("installations").pluck("account_login")).toEqual(["globex"]);

    const run = await cli.run(["redeliver"], ghe());

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      `redelivered  ${missed.guid} installation.created`,
      `redelivered  ${uninstalled.guid} installation.deleted`,
      "2 redelivery request(s); scanned 3 deliveries, 2 failed (0 processed since, 0 already requested)",
    ]);
    expect(hooks.redeliveryRequests).toEqual([missed.id, uninstalled.id]);
    // GitHub's log now shows both redeliveries answered 200, and the server applied them.
    expect(hooks.attempts().slice(0, 2).map((a) => [a.guid, a.redelivery, a.status_code])).toEqual([
      [uninstalled.guid, true, 200],
      [missed.guid, true, 200],
    ]);
    expect(await db("installations").pluck("account_login")).toEqual(["acme"]);
    expect((await db("installation_tombstones").pluck("installation_id")).map(Number)).toEqual([globex.id]);
    expect((await db("webhook_deliveries").pluck("id")).sort()).toEqual([delivered.guid, uninstalled.guid, missed.guid].sort());

    const second = await cli.run(["redeliver"], ghe());

    expect(second.exitCode).toBe(0);
    expect(second.out).toEqual(["0 redelivery request(s); scanned 5 deliveries, 0 failed (0 processed since, 0 already requested)"]);
    expect(hooks.redeliveryRequests).toHaveLength(2);
  });

  test("over several pages of GitHub's log (cursor pagination), only the failed deliveries never processed are asked for", async () => {
    const { github } = e2e;
    const missed: string[] = [];
    // 201 attempts: three pages of 100, 100 and 1. Every tenth was missed while Octoplex was down.
    for (let i = 0; i < 201; i++) {
      const installation = github.world.install(github.world.addOrg({ id: 20_000 + i, login: `org-${i}` }));
      const attempt = await hooks.deliver("installation", github.installationEvent("created", installation), {
        down: i % 10 === 0,
        at: new Date(Date.now() - (201 - i) * 60_000),
      });
      if (i % 10 === 0) missed.unshift(attempt.guid);
    }

    const run = await cli.run(["redeliver"], ghe());

    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      ...missed.map((guid) => `redelivered  ${guid} installation.created`),
      "21 redelivery request(s); scanned 201 deliveries, 21 failed (0 processed since, 0 already requested)",
    ]);
    const listings = github.requests.filter((r) => r.path === "/api/v3/app/hook/deliveries");
    expect(listings.map((r) => new URLSearchParams(r.search).has("cursor"))).toEqual([false, true, true]);
    expect(await e2e.db("installations").count({ n: "*" }).then((r) => Number(r[0].n))).toBe(201);
  }, 60_000);
});
