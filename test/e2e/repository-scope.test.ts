import { createGithubGit, FakeGit } from "../fakes/github-git";
import { installationApiRoutes } from "../fakes/github-installation-api";
import type { Browser } from "../helpers/browser";
import { createTestDatabase, databaseKinds, TestDatabase } from "../helpers/databases";
import { E2E, startE2E } from "../helpers/e2e";
import { outboxSummary } from "../helpers/outbox";
import { newPlatformSecret, platformEnv } from "../helpers/platform-receiver";
import { BOB } from "../helpers/users";

const ACME = { id: 9001, login: "acme" };
const FILES = [{ path: "docs/guide.md", content: "# Guide\n" }];
// The server keeps installation tokens in memory across tests while the fake starts over: new ids each test.
let nextInstallationId = 75001;

type Link = { installationId: number; repositories: "all" | number[] };

// Real server and fake GitHub (its git model and installation API), events recorded for the platform
// (to an address nobody answers: the outbox rows are what these tests read).
describe.each(databaseKinds())("creating and committing within a link's repository scope on %s", (kind) => {
  let database: TestDatabase;
  let e2e: E2E;
  let git: FakeGit;
  let bob: Browser;
  let teamId: number;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    e2e = await startE2E(database, platformEnv({ url: "http://127.0.0.1:9/platform", secret: newPlatformSecret() }));
    git = createGithubGit(e2e.github);
    e2e.github.addRoutes(git.routes);
    e2e.github.addRoutes(installationApiRoutes(e2e.github));
  });
  afterAll(async () => {
    await e2e?.close();
    await database?.drop();
  });

  const call = (method: string, path: string, body?: unknown) => bob.json(method, e2e.url(path), body);
  const linkOf = async (installationId: number) =>
    ((await call("GET", `/api/teams/${teamId}/installations`)).body as Link[]).find((l) => l.installationId === installationId);
  const commitTo = (repo: string) => call("POST", `/api/teams/${teamId}/repositories/acme/${repo}/commits`, { branch: "main", message: "Docs", files: FILES });

  /** acme's installation ("selected" unless said) reaching acme/legacy, linked to Bob's team with `scope`. */
  async function arrange(scope: "all" | "legacy", repositorySelection: "all" | "selected" = "selected") {
    await e2e.reset();
    git.reset();
    const acme = e2e.github.world.addOrg(ACME);
    e2e.github.world.setMembership(acme, BOB, "admin");
    const installationId = e2e.github.world.install(acme, { id: nextInstallationId++, repositorySelection }).id;
    const legacy = e2e.github.world.addRepository(acme, { name: "legacy" });
    if (repositorySelection === "selected") e2e.github.world.selectRepositories(installationId, [legacy.id]);
    bob = await e2e.signIn(BOB);
    teamId = ((await call("POST", "/api/teams", { name: "Widgets team" })).body as { id: number }).id;
    const linked = await call("POST", `/api/teams/${teamId}/installations`, { installationId, repositories: scope === "all" ? "all" : [legacy.id] });
    expect(linked.status).toBe(201);
    return { installationId, legacyId: legacy.id };
  }

  test("a repository created on a list-scoped link joins the team's scope (GET shows it, a scope_changed event) and takes a verified commit", async () => {
    const { installationId, legacyId } = await arrange("legacy");

    const created = await call("POST", `/api/teams/${teamId}/repositories`, { installationId, name: "widgets", autoInit: true });

    expect(created.status).toBe(201);
    const widgetsId = e2e.github.world.repositoriesOf(installationId).find((r) => r.name === "widgets")!.id;
    expect((await linkOf(installationId))?.repositories).toEqual([legacyId, widgetsId].sort((a, b) => a - b));
    const stored = await e2e.db("installation_repositories").where({ installation_id: installationId, repository_id: widgetsId }).first();
    expect(stored).toMatchObject({ full_name: "acme/widgets", owner: "acme", name: "widgets", default_branch: "main" });
    const events = (await outboxSummary(e2e.db)).filter(([type]) => type === "team.installation.scope_changed");
    expect(events).toEqual([
      ["team.installation.scope_changed", teamId, { teamId, installationId, repositories: [legacyId, widgetsId].sort((a, b) => a - b) }],
    ]);
    const audited = await e2e.db("audit_events").where({ action: "team.installation.scope_changed", team_id: teamId }).count("* as n");
    expect(Number(audited[0].n)).toBe(1);

    const committed = await commitTo("widgets");

    expect(committed.status).toBe(201);
    const { sha, verified } = committed.body as { sha: string; verified: boolean };
    expect(verified).toBe(true);
    expect(git.commit(sha)).toMatchObject({ message: "Docs", signed: true });
    const sent = e2e.github.requests.filter((r) => r.method === "POST" && r.path === "/api/v3/repos/acme/widgets/git/commits");
    expect(sent).toHaveLength(1);
  });

  test("a team scoped to acme/legacy committing to another repository of the installation is refused 403 forbidden, GitHub not asked", async () => {
    const { installationId } = await arrange("legacy", "all");
    // Another team's repository on the same installation: the installation reaches it, this team's scope does not.
    const secret = e2e.github.world.addRepository(e2e.github.world.org("acme")!, { name: "secret" });
    await e2e.db("installation_repositories").insert({ installation_id: installationId, repository_id: secret.id, owner: "acme", name: "secret", full_name: "acme/secret", private: true });
    const before = e2e.github.requests.length;

    const res = await commitTo("secret");

    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: "forbidden" } });
    expect(e2e.github.requests.slice(before)).toEqual([]);
  });

  test("on an 'all' link a created repository leaves the scope 'all' and sends no scope event; commits anywhere in the installation", async () => {
    const { installationId } = await arrange("all", "all");

    expect((await call("POST", `/api/teams/${teamId}/repositories`, { installationId, name: "widgets", autoInit: true })).status).toBe(201);

    expect((await linkOf(installationId))?.repositories).toBe("all");
    expect((await outboxSummary(e2e.db)).filter(([type]) => type === "team.installation.scope_changed")).toEqual([]);
    const committed = await commitTo("widgets");
    expect(committed.status).toBe(201);
    expect(committed.body).toMatchObject({ verified: true });
  });
});
