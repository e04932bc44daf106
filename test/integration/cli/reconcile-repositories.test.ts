import { listInstallationRepositories, recordDeparture } from "../../../src/repositories/installation-repositories";
import { scopesOfTeam, writeScope } from "../../../src/repositories/link-scopes";
import { FakeGithub, startFakeGithub } from "../../fakes/fake-github";
import { installationApiRoutes } from "../../fakes/github-installation-api";
import type { FakeRepository } from "../../fakes/github-world";
import { useMigratedCliTarget } from "../../helpers/cli";
import { githubEnv } from "../../helpers/config";
import { databaseKinds } from "../../helpers/databases";
import { NOW, seedLinks, seedTeams } from "../../helpers/factories";

/** What the database should hold for the repositories GitHub lists, in full-name order. */
const asStored = (repositories: FakeRepository[]) =>
  repositories
    .map((r) => ({
      id: r.id,
      owner: r.owner.login,
      name: r.name,
      fullName: `${r.owner.login}/${r.name}`,
      private: r.private,
      archived: r.archived,
      defaultBranch: r.defaultBranch,
    }))
    .sort((a, b) => (a.fullName < b.fullName ? -1 : 1));

describe.each(databaseKinds())("octoplex reconcile against the fake GitHub's repositories on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);
  let github: FakeGithub;

  beforeAll(async () => {
    github = await startFakeGithub();
    github.addRoutes(installationApiRoutes(github));
  });
  beforeEach(() => github.reset());
  afterAll(() => github?.close());

  const reconcile = () => cli().run(["reconcile"], githubEnv(github.url));

  test("stores every page of each installation's repositories, then follows renames, archiving, deletions and selections", async () => {
    const acme = github.world.addOrg({ id: 9001, login: "acme" });
    const globex = github.world.addOrg({ id: 9002, login: "globex" });
    const all = github.world.install(acme);
    const selected = github.world.install(globex, { repositorySelection: "selected" });
    // 150 repositories: two pages of 100.
    const acmeRepos = Array.from({ length: 150 }, (_, i) => github.world.addRepository(acme, { name: `repo-${String(i).padStart(3, "0")}` }));
    const [docs, web] = ["docs", "web", "secret"].map((name) => github.world.addRepository(globex, { name }));
    github.world.selectRepositories(selected.id, [docs.id, web.id]);

    const first = await reconcile();
    expect(first.err).toEqual([]);
    expect(first.exitCode).toBe(0);
    expect(first.out.at(-1)).toBe("2 added, 0 updated, 0 removed, 0 unchanged; repositories: 152 added, 0 updated, 0 removed");
    expect(first.out).toContain("repos      70002 globex: added globex/docs, globex/web");
    // acme's list over two pages, globex's in one.
    expect(github.requests.filter((r) => r.path === "/api/v3/installation/repositories").length).toBe(3);
    expect(await listInstallationRepositories(cli().db, all.id)).toEqual(asStored(acmeRepos));
    expect(await listInstallationRepositories(cli().db, selected.id)).toEqual(asStored([docs, web]));

    github.world.updateRepository(acmeRepos[0].id, { name: "renamed" });
    github.world.updateRepository(acmeRepos[1].id, { archived: true, defaultBranch: "trunk" });
    github.world.deleteRepository(acmeRepos[2].id);
    const added = github.world.addRepository(acme, { name: "brand-new", private: false });
    github.world.selectRepositories(selected.id, [docs.id]);

    const second = await reconcile();
    expect(second.exitCode).toBe(0);
    expect(second.out).toEqual([
      "repos      70001 acme: added acme/brand-new; removed acme/repo-002; " +
        "updated acme/renamed (renamed from acme/repo-000), acme/repo-001 (archived, default branch main → trunk)",
      "repos      70002 globex: removed globex/web",
      "0 added, 0 updated, 0 removed, 2 unchanged; repositories: 1 added, 2 updated, 2 removed",
    ]);
    expect(await listInstallationRepositories(cli().db, all.id)).toEqual(asStored(github.world.repositoriesOf(all.id)));
    expect((await listInstallationRepositories(cli().db, all.id)).map((r) => r.id)).toContain(added.id);
    expect(await listInstallationRepositories(cli().db, selected.id)).toEqual(asStored([docs]));

    const third = await reconcile();
    expect(third.out).toEqual(["Nothing to change: 2 installation(s) already match GitHub"]);
  });

  test("a repository GitHub no longer lists leaves a team's list scope, audited as the system's change; one GitHub lists again is no longer departed", async () => {
    const globex = github.world.addOrg({ id: 9002, login: "globex" });
    const selected = github.world.install(globex, { repositorySelection: "selected" });
    const [docs, web] = ["docs", "web"].map((name) => github.world.addRepository(globex, { name }));
    github.world.selectRepositories(selected.id, [docs.id, web.id]);
    expect((await reconcile()).exitCode).toBe(0);
    const [team] = await seedTeams(cli().db, 1, "reconciled");
    await seedLinks(cli().db, selected.id, [team]);
    await writeScope(cli().db, team.id, selected.id, [docs.id, web.id]);
    github.world.selectRepositories(selected.id, [docs.id]);

    expect((await reconcile()).exitCode).toBe(0);

    expect((await scopesOfTeam(cli().db, team.id)).get(selected.id)).toEqual([docs.id]);
    const audit = await cli().db("audit_events").where({ action: "team.installation.scope_changed" });
    expect(audit.map((e) => [Number(e.team_id), e.actor_type, typeof e.data === "string" ? JSON.parse(e.data) : e.data])).toEqual([
      [team.id, "system", { before: [docs.id, web.id], after: [docs.id], removed: [web.id] }],
    ]);

    // Transferred away once (a departure), listed by GitHub now: stored again.
    await recordDeparture(cli().db, selected.id, web.id, NOW);
    github.world.selectRepositories(selected.id, [docs.id, web.id]);
    expect((await reconcile()).exitCode).toBe(0);
    expect((await listInstallationRepositories(cli().db, selected.id)).map((r) => r.name)).toEqual(["docs", "web"]);
    expect(await cli().db("repository_departures")).toEqual([]);
  });
});
