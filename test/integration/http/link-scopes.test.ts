import { installationApiRoutes } from "../../fakes/github-installation-api";
import { ACME, acmeAndBobsTeam } from "../../fixtures/acme-team";
import type { Browser } from "../../helpers/browser";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";
import { E2E, startE2E } from "../../helpers/e2e";
import { countRows } from "../../helpers/factories";
import { expectError } from "../../helpers/http-expect";
import { outboxSummary } from "../../helpers/outbox";
import { newPlatformSecret, platformEnv } from "../../helpers/platform-receiver";
import { ALICE, BOB } from "../../helpers/users";
import { installationRepositoriesEvent, repository } from "../../fixtures/payloads";

// The server keeps installation tokens in memory across tests while the fake starts over: new ids each test.
let nextInstallationId = 76001;

type Scope = "all" | number[];

// Real server and fake GitHub, events recorded for the platform (to an address nobody answers:
// the outbox rows are what these tests read).
describe.each(databaseKinds())("link repository scopes on %s", (kind) => {
  let database: TestDatabase;
  let e2e: E2E;
  /** What the installation reaches on the fake GitHub from now on: `<owner>/repo-<id>` for each id. */
  const repos = {
    set(installationId: number, ownerLogin: string, ids: number[]) {
      const owner = e2e.github.world.org(ownerLogin)!;
      for (const id of ids) if (!e2e.github.world.repository(id)) e2e.github.world.addRepository(owner, { id, name: `repo-${id}` });
      e2e.github.world.selectRepositories(installationId, ids);
    },
  };
  let bob: Browser;
  let teamId: number;
  let acmeId: number;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    e2e = await startE2E(database, platformEnv({ url: "http://127.0.0.1:9/platform", secret: newPlatformSecret() }));
    e2e.github.addRoutes(installationApiRoutes(e2e.github));
  });
  afterAll(async () => {
    await e2e?.close();
    await database?.drop();
  });

  const as = (who: Browser) => (method: string, path: string, body?: unknown) => who.json(method, e2e.url(path), body);
  const call = (method: string, path: string, body?: unknown) => as(bob)(method, path, body);
  const link = (repositories?: Scope, team = teamId) =>
    call("POST", `/api/teams/${team}/installations`, repositories === undefined ? { installationId: acmeId } : { installationId: acmeId, repositories });
  const patch = (repositories: unknown, who = bob, team = teamId) => as(who)("PATCH", `/api/teams/${team}/installations/${acmeId}`, { repositories });
  const scopeOf = async (team = teamId) =>
    ((await call("GET", `/api/teams/${team}/installations`)).body as Array<{ installationId: number; repositories: Scope }>).find((l) => l.installationId === acmeId)?.repositories;
  const scopeRows = () => countRows(e2e.db, "team_installation_repositories");
  const scopeEvents = async () => (await outboxSummary(e2e.db)).filter(([type]) => type === "team.installation.scope_changed");
  const scopeAudit = async () =>
    (await e2e.db("audit_events").where({ action: "team.installation.scope_changed" }).orderBy("id")).map((e) => [
      Number(e.actor_id),
      typeof e.data === "string" ? JSON.parse(e.data) : e.data,
    ]);
  /** Alice signed in, made a team admin by Bob. */
  const aliceAdmin = async () => {
    const alice = await e2e.signIn(ALICE);
    expect((await call("PUT", `/api/teams/${teamId}/members/${ALICE.id}`, { role: "admin" })).status).toBe(200);
    return alice;
  };

  beforeEach(async () => {
    await e2e.reset();
    ({ acmeId, bob, teamId } = await acmeAndBobsTeam(e2e, nextInstallationId++));
    repos.set(acmeId, "acme", [11, 12, 13]);
  });

  test("linking with a list fetches the installation's repositories from GitHub the first time; the answer and GET carry the list", async () => {
    const hop = await link([13, 11]);
    expect(hop.status).toBe(201);
    expect(hop.body).toEqual(expect.objectContaining({ installationId: acmeId, repositories: [11, 13] }));
    expect(await scopeOf()).toEqual([11, 13]);
    expect((await e2e.db("installation_repositories").where({ installation_id: acmeId }).orderBy("repository_id").pluck("repository_id")).map(Number)).toEqual([11, 12, 13]);
    expect((await outboxSummary(e2e.db)).find(([type]) => type === "team.installation.linked")?.[2]).toEqual(expect.objectContaining({ repositories: [11, 13] }));
  });

  test("an installation's repositories are fetched over every page of GET /installation/repositories", async () => {
    repos.set(acmeId, "acme", Array.from({ length: 150 }, (_, i) => i + 1));
    expect((await link([150, 1])).body).toEqual(expect.objectContaining({ repositories: [1, 150] }));
    expect(await countRows(e2e.db, "installation_repositories")).toBe(150);
    expect(e2e.github.requests.filter((r) => r.path === "/api/v3/installation/repositories")).toHaveLength(2);
  });

  test("a list naming repositories unknown to the database on a suspended installation answers 409 installation_suspended", async () => {
    await link([11]);
    const installation = e2e.github.world.installation(acmeId)!;
    installation.suspended = true;
    expect((await e2e.sendInstallationEvent("suspend", installation)).status).toBe(200);
    await e2e.db("installation_repositories").where({ installation_id: acmeId, repository_id: 12 }).delete();
    expectError(await patch([11, 12]), 409, "installation_suspended");
    expect(await scopeOf()).toEqual([11]);
  });

  test("linking without repositories covers all of them, as before", async () => {
    expect((await link()).body).toEqual(expect.objectContaining({ repositories: "all" }));
    expect(await scopeOf()).toBe("all");
  });

  test("ids that are not repositories of the installation answer 400 naming them, and nothing is written", async () => {
    const hop = await link([11, 99, 98]);
    expectError(hop, 400, "invalid_input");
    expect((hop.body as { error: { message: string } }).error.message).toContain("98, 99");
    expect(await countRows(e2e.db, "team_installations")).toBe(0);
    expect(await scopeRows()).toBe(0);
    expect(await countRows(e2e.db, "installation_repositories")).toBe(0);
  });

  test("PATCH narrowing by a team admin: 200 with the link, audited with before and after, one platform event", async () => {
    await link([11, 12]);
    const hop = await patch([12]);
    expect(hop.status).toBe(200);
    expect(hop.body).toEqual(expect.objectContaining({ installationId: acmeId, repositories: [12] }));
    expect(await scopeOf()).toEqual([12]);
    expect(await scopeAudit()).toEqual([[BOB.id, { before: [11, 12], after: [12] }]]);
    expect(await scopeEvents()).toEqual([["team.installation.scope_changed", teamId, { teamId, installationId: acmeId, repositories: [12] }]]);
  });

  test("PATCH from all to a list is narrowing: a team admin who is only a plain org member may", async () => {
    await link();
    const alice = await aliceAdmin();
    expect((await patch([13], alice)).status).toBe(200);
    expect(await scopeOf()).toEqual([13]);
  });

  test("PATCH by a plain team member answers 403 and changes nothing", async () => {
    await link([11, 12]);
    const alice = await e2e.signIn(ALICE);
    expect((await call("PUT", `/api/teams/${teamId}/members/${ALICE.id}`, { role: "member" })).status).toBe(200);
    expectError(await patch([12], alice), 403, "forbidden");
    expect(await scopeOf()).toEqual([11, 12]);
  });

  test.each([
    ["another repository", [11, 13]],
    ["all", "all"],
  ])("PATCH widening (%s) by a team admin who is only a plain org member answers 403 and changes nothing", async (_name, wider) => {
    await link([11]);
    const alice = await aliceAdmin();
    expectError(await patch(wider, alice), 403, "forbidden");
    expect(await scopeOf()).toEqual([11]);
    expect(await scopeAudit()).toEqual([]);
    expect(await scopeEvents()).toEqual([]);
  });

  test("PATCH widening by a team admin who is an org admin: 200", async () => {
    await link([11]);
    expect((await patch([11, 12])).body).toEqual(expect.objectContaining({ repositories: [11, 12] }));
    expect((await patch("all")).body).toEqual(expect.objectContaining({ repositories: "all" }));
    expect(await scopeRows()).toBe(0);
    expect((await scopeAudit()).map(([, data]) => data)).toEqual([
      { before: [11], after: [11, 12] },
      { before: [11, 12], after: "all" },
    ]);
  });

  test("an API key acting for nobody may narrow but not widen (400 user_required)", async () => {
    await link([11, 12]);
    const { key } = await e2e.server.deps.services.apiKeys.create("platform");
    const keyCall = (repositories: Scope) =>
      fetch(e2e.url(`/api/teams/${teamId}/installations/${acmeId}`), {
        method: "PATCH",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ repositories }),
      });
    expect((await keyCall([11])).status).toBe(200);
    const widen = await keyCall([11, 12]);
    expect(widen.status).toBe(400);
    expect(((await widen.json()) as { error: { code: string } }).error.code).toBe("user_required");
    expect(await scopeOf()).toEqual([11]);
  });

  test("a repository removed from the installation (installation_repositories webhook) leaves every team's scope; a list may end empty", async () => {
    await link([11, 12]);
    const otherTeam = ((await call("POST", "/api/teams", { name: "Team B" })).body as { id: number }).id;
    await link([12], otherTeam);
    const payload = installationRepositoriesEvent("removed", { id: acmeId, account: { ...ACME, type: "Organization" } }, { removed: [repository(12, "acme/repo-12")] });
    expect((await e2e.server.sendWebhook("installation_repositories", payload)).status).toBe(200);
    expect(await scopeOf()).toEqual([11]);
    expect(await scopeOf(otherTeam)).toEqual([]);
  });

  test("a webhook for an installation with every repository leaves the scopes on its repositories alone", async () => {
    e2e.github.world.uninstall(acmeId);
    const acme = e2e.github.world.org("acme")!;
    acmeId = e2e.github.world.install(acme, { id: nextInstallationId++ }).id;
    repos.set(acmeId, "acme", [11, 12]);
    await link([11]);
    expect((await e2e.sendInstallationEvent("suspend", acmeId)).status).toBe(200);
    expect(await scopeOf()).toEqual([11]);
  });

  test("unlinking drops the scope; linking again starts with the new one", async () => {
    await link([11]);
    expect((await call("DELETE", `/api/teams/${teamId}/installations/${acmeId}`)).status).toBe(204);
    expect(await scopeRows()).toBe(0);
    expect((await link([12, 13])).body).toEqual(expect.objectContaining({ repositories: [12, 13] }));
    expect(await scopeOf()).toEqual([12, 13]);
  });

  test("linking an installation already linked with another scope changes the scope (200)", async () => {
    await link([11]);
    const hop = await link([12]);
    expect(hop.status).toBe(200);
    expect(hop.body).toEqual(expect.objectContaining({ repositories: [12] }));
    expect((await scopeAudit()).map(([, data]) => data)).toEqual([{ before: [11], after: [12] }]);
    // Linking again without a scope keeps the one it has.
    expect((await link()).body).toEqual(expect.objectContaining({ repositories: [12] }));
  });

  test("PATCH by a member of another team answers 404 and changes nothing", async () => {
    await link([11, 12]);
    const alice = await e2e.signIn(ALICE);
    const aliceTeam = ((await as(alice)("POST", "/api/teams", { name: "Alice's" })).body as { id: number }).id;
    expect(aliceTeam).toBeGreaterThan(0);
    expectError(await patch([11], alice), 404, "not_found");
    expect(await scopeOf()).toEqual([11, 12]);
  });

  test("PATCH of an installation not linked to the team answers 404; a malformed scope 400", async () => {
    expectError(await patch([11]), 404, "not_found");
    expectError(await patch("some"), 400, "invalid_input");
    expectError(await patch([0]), 400, "invalid_input");
  });
});
