import { createPublicKey, verify } from "node:crypto";
import nock from "nock";
import { toInstallationSnapshot } from "../../../src/github/installation-snapshot";
import { listAuditEvents } from "../../../src/repositories/audit-events";
import { Installation, isTombstoned, listInstallations } from "../../../src/repositories/installations";
import { listLinks } from "../../../src/repositories/links";
import { removeInstallation } from "../../../src/services/installations/installation-state";
import { noEvents } from "../../../src/services/events/platform-events";
import { addInstallationRepositories, listInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { AccountFixture, githubInstallation, githubRepository, InstallationFixture, RepositoryFixture } from "../../fixtures/payloads";
import { githubInstallationToken } from "../../fixtures/github-answers";
import { testPrivateKey } from "../../fixtures/keys";
import { runCli, useMigratedCliTarget } from "../../helpers/cli";
import { TEST_APP_ID } from "../../helpers/config";
import { databaseKinds } from "../../helpers/databases";
import { countRows, seedInstallation, seedLinks, seedTeams } from "../../helpers/factories";

type GithubInstallationJson = ReturnType<typeof githubInstallation>;

const API = "https://api.github.com";

const account = (id: number, login = `org-${id}`): AccountFixture => ({ id: 9000 + id, login, type: "Organization" });

function remote(id: number, f: Partial<InstallationFixture> = {}): GithubInstallationJson {
  return githubInstallation({ id, account: account(id), ...f });
}

/** The app's JWT, signed with the app's key and issued for the app's id: what GitHub checks. */
function isAppJwt(authorization: string): boolean {
  const match = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(authorization);
  if (!match) return false;
  const [, header, payload, signature] = match;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: unknown };
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${header}.${payload}`),
    createPublicKey(testPrivateKey()),
    Buffer.from(signature, "base64url"),
  );
  return signed && String(claims.iss) === String(TEST_APP_ID);
}

/** `GET /app/installations` answered over pages linked with rel="next"; a status fails that page. */
function githubListsInstallations(pages: Array<GithubInstallationJson[] | number>): nock.Scope {
  const scope = nock(API).matchHeader("authorization", isAppJwt);
  pages.forEach((page, index) => {
    const query = index === 0 ? { per_page: "100" } : { per_page: "100", page: String(index + 1) };
    const interceptor = scope.get("/app/installations").query(query);
    if (typeof page === "number") {
      interceptor.reply(page, { message: "Server Error" });
      return;
    }
    const last = `<${API}/app/installations?per_page=100&page=${pages.length}>; rel="last"`;
    const next = `<${API}/app/installations?per_page=100&page=${index + 2}>; rel="next"`;
    interceptor.reply(200, page, index < pages.length - 1 ? { link: `${next}, ${last}` } : {});
  });
  return scope;
}

type GithubRepositoryJson = ReturnType<typeof githubRepository>;

/**
 * The installation's token (minted with the app's JWT, unless the token cache holds one from an
 * earlier run) and `GET /installation/repositories` with that token, over pages linked with
 * rel="next"; a status fails that page.
 */
function githubListsRepositories(installationId: number, pages: Array<GithubRepositoryJson[] | number>): nock.Scope {
  const token = `ghs_reconcile${installationId}`;
  nock(API)
    .matchHeader("authorization", isAppJwt)
    .post(`/app/installations/${installationId}/access_tokens`)
    .optionally()
    .reply(201, githubInstallationToken(token, { permissions: { metadata: "read" } }));
  const scope = nock(API).matchHeader("authorization", `token ${token}`);
  const total = pages.reduce<number>((n, page) => n + (typeof page === "number" ? 0 : page.length), 0);
  pages.forEach((page, index) => {
    const query = index === 0 ? { per_page: "100" } : { per_page: "100", page: String(index + 1) };
    const interceptor = scope.get("/installation/repositories").query(query);
    if (typeof page === "number") {
      interceptor.reply(page, { message: "Server Error" });
      return;
    }
    const last = `<${API}/installation/repositories?per_page=100&page=${pages.length}>; rel="last"`;
    const next = `<${API}/installation/repositories?per_page=100&page=${index + 2}>; rel="next"`;
    const body = { total_count: total, repository_selection: "all", repositories: page };
    interceptor.reply(200, body, index < pages.length - 1 ? { link: `${next}, ${last}` } : {});
  });
  return scope;
}

const repo = (installationId: number, f: Omit<RepositoryFixture, "owner">) => githubRepository({ ...f, owner: account(installationId) });

/** An installation as GitHub describes it, without our own bookkeeping. */
function described({ createdAt: _c, updatedAt: _u, ...snapshot }: Installation) {
  return snapshot;
}

describe.each(databaseKinds())("octoplex reconcile on %s", (kind) => {
  const cli = useMigratedCliTarget(kind);
  const db = () => cli().db;

  async function tableCounts() {
    const counts: Record<string, number> = {};
    for (const t of ["installations", "installation_tombstones", "team_installations", "audit_events"]) {
      counts[t] = await countRows(db(), t);
    }
    return counts;
  }

  test("adds new, removes gone (with their links), updates changed installations; a second run changes nothing", async () => {
    const a = remote(1001);
    const b = remote(1002);
    const cBefore = remote(1003);
    const cNow = remote(1003, { suspendedAt: "2026-11-10T08:00:00Z", suspendedBy: "admin", updatedAt: "2026-11-10T08:00:00Z" });
    const dBefore = remote(1004);
    const dNow = remote(1004, { account: account(1004, "acme-renamed") });
    const e = remote(1005, { repositorySelection: "selected" });
    for (const gh of [a, b, cBefore, dBefore]) await seedInstallation(db(), gh.id, toInstallationSnapshot(gh));
    const teams = await seedTeams(db(), 3);
    await seedLinks(db(), b.id, teams.slice(0, 2));
    await seedLinks(db(), a.id, teams.slice(2));
    await seedLinks(db(), cBefore.id, teams.slice(2));

    const pages = [[a, cNow], [dNow, e]];
    const scope = githubListsInstallations(pages);
    // Each installation GitHub gives a token (C is suspended: none) lists no repository.
    const listings = () => [a, dNow, e].map((gh) => githubListsRepositories(gh.id, [[]]));
    const repositoryScopes = listings();
    const run = await cli().run(["reconcile"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      "added      1005 org-1005",
      "updated    1003 org-1003: suspended",
      "updated    1004 acme-renamed: login org-1004 → acme-renamed",
      `removed    1002 org-1002 (unlinked from teams ${teams[0].id}, ${teams[1].id})`,
      "1 added, 2 updated, 1 removed, 1 unchanged",
    ]);
    expect(run.progress.filter((p) => p.startsWith("Listing"))).toEqual(["Listing installations: 2", "Listing installations: 4"]);
    expect(run.progress.at(-1)).toBe("");
    expect(scope.isDone()).toBe(true);
    expect(repositoryScopes.every((s) => s.isDone())).toBe(true);

    // The database now says what GitHub says.
    expect((await listInstallations(db())).map(described)).toEqual([a, cNow, dNow, e].map(toInstallationSnapshot));
    expect(await isTombstoned(db(), b.id)).toBe(true);
    expect((await listLinks(db())).map((l) => [l.teamId, l.installationId])).toEqual([
      [teams[2].id, a.id],
      [teams[2].id, cNow.id],
    ]);
    const audit = await listAuditEvents(db(), {});
    const system = { type: "system", id: null };
    expect(audit.map((ev) => [ev.teamId, ev.installationId, ev.action, ev.actor, ev.data]).sort()).toEqual(
      [
        ...teams.slice(0, 2).map((t) => [t.id, b.id, "team.installation.unlinked", system, { reason: "reconcile" }]),
        // The missed suspend webhook still shows in the history of the team that uses C.
        [teams[2].id, cNow.id, "installation.suspended", system, { source: "reconcile" }],
      ].sort(),
    );

    const installationsAfterFirstRun = await listInstallations(db());
    const countsAfterFirstRun = await tableCounts();
    const again = githubListsInstallations(pages);
    const repositoriesAgain = listings();
    const second = await cli().run(["reconcile"]);

    expect(second.exitCode).toBe(0);
    expect(second.out).toEqual(["Nothing to change: 4 installation(s) already match GitHub"]);
    expect(again.isDone()).toBe(true);
    expect(repositoriesAgain.every((s) => s.isDone())).toBe(true);
    // Not even updated_at moves.
    expect(await listInstallations(db())).toEqual(installationsAfterFirstRun);
    expect(await tableCounts()).toEqual(countsAfterFirstRun);
  });

  test("a GitHub 500 on page 2 fails the command with a message and leaves the database untouched", async () => {
    const a = remote(2001);
    const b = remote(2002);
    for (const gh of [a, b]) await seedInstallation(db(), gh.id, toInstallationSnapshot(gh));
    await seedLinks(db(), b.id, await seedTeams(db(), 2));
    const installationsBefore = await listInstallations(db());
    const countsBefore = await tableCounts();

    // Page 1 alone would make b look uninstalled.
    const scope = githubListsInstallations([[a, remote(2003)], 500]);
    const run = await cli().run(["reconcile"]);

    expect(run.exitCode).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toEqual(["octoplex: listing the app's installations on GitHub failed on page 2 (HTTP 500): Server Error"]);
    expect(scope.isDone()).toBe(true);
    expect(await listInstallations(db())).toEqual(installationsBefore);
    expect(await tableCounts()).toEqual(countsBefore);
  });

  test("a DNS failure says GitHub could not be reached, not that it answered HTTP 500, and changes nothing", async () => {
    const a = remote(2101);
    await seedInstallation(db(), a.id, toInstallationSnapshot(a));
    const countsBefore = await tableCounts();
    const scope = nock(API)
      .get("/app/installations")
      .query(true)
      .replyWithError(Object.assign(new Error("getaddrinfo ENOTFOUND api.github.com"), { code: "ENOTFOUND" }));

    const run = await cli().run(["reconcile"]);

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual([expect.stringMatching(/^octoplex: could not reach GitHub to list the app's installations \(.*ENOTFOUND.*\)/)]);
    expect(run.err.join("\n")).not.toMatch(/HTTP 500/);
    expect(scope.isDone()).toBe(true);
    expect(await tableCounts()).toEqual(countsBefore);
  });

  test("an installation deleted by an earlier installation.deleted webhook is skipped, not re-added", async () => {
    const a = remote(3001);
    const deleted = remote(3002);
    for (const gh of [a, deleted]) await seedInstallation(db(), gh.id, toInstallationSnapshot(gh));
    // What the installation.deleted webhook does.
    await db().transaction((trx) => removeInstallation(trx, deleted.id, "installation_deleted", { type: "github", id: null }, new Date(), noEvents));

    // A listing taken before the uninstall reached GitHub's list still has it.
    const scope = githubListsInstallations([[a], [deleted]]);
    const repositories = githubListsRepositories(a.id, [[]]);
    const run = await cli().run(["reconcile"]);

    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual(["skipped    3002 (deleted by an earlier webhook)", "Nothing to change: 1 installation(s) already match GitHub"]);
    expect(scope.isDone()).toBe(true);
    expect(repositories.isDone()).toBe(true);
    expect((await listInstallations(db())).map((i) => i.id)).toEqual([a.id]);
  });

  test("compares every page of each installation's repositories: adds missing, removes gone, updates changed, revives a tombstoned one GitHub lists", async () => {
    const gh = remote(4001);
    await seedInstallation(db(), gh.id, toInstallationSnapshot(gh));
    const keep = repo(gh.id, { id: 1, name: "keep" });
    const renamed = repo(gh.id, { id: 2, name: "new-name", archived: true });
    await addInstallationRepositories(db(), gh.id, [
      { id: 1, fullName: "org-4001/keep", private: true, archived: false, defaultBranch: "main" },
      { id: 2, fullName: "org-4001/old-name", private: true, archived: false, defaultBranch: "main" },
      { id: 3, fullName: "org-4001/gone", private: true },
    ]);
    // Deleted by a webhook, yet GitHub lists it: GitHub's own answer wins.
    await db()("repository_tombstones").insert({ repository_id: 5, deleted_at: new Date().toISOString() });
    const added = repo(gh.id, { id: 4, name: "added", private: false, defaultBranch: "trunk" });
    const revived = repo(gh.id, { id: 5, name: "revived" });

    const installations = githubListsInstallations([[gh]]);
    const repositories = githubListsRepositories(gh.id, [[keep, renamed], [added], [revived]]);
    const run = await cli().run(["reconcile"]);

    expect(run.err).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.out).toEqual([
      "repos      4001 org-4001: added org-4001/added, org-4001/revived; removed org-4001/gone; updated org-4001/new-name (renamed from org-4001/old-name, archived)",
      "0 added, 0 updated, 0 removed, 1 unchanged; repositories: 2 added, 1 updated, 1 removed",
    ]);
    expect(installations.isDone()).toBe(true);
    expect(repositories.isDone()).toBe(true);
    const stored = (id: number, name: string, more: Partial<{ private: boolean; archived: boolean; defaultBranch: string }> = {}) => ({
      id, owner: "org-4001", name, fullName: `org-4001/${name}`, private: true, archived: false, defaultBranch: "main", ...more,
    });
    expect(await listInstallationRepositories(db(), gh.id)).toEqual([
      stored(4, "added", { private: false, defaultBranch: "trunk" }),
      stored(1, "keep"),
      stored(2, "new-name", { archived: true }),
      stored(5, "revived"),
    ]);
    expect(await countRows(db(), "repository_tombstones")).toBe(0);

    // A second run finds nothing to change.
    githubListsInstallations([[gh]]);
    const again = githubListsRepositories(gh.id, [[keep, renamed], [added], [revived]]);
    const second = await cli().run(["reconcile"]);
    expect(second.out).toEqual(["Nothing to change: 1 installation(s) already match GitHub"]);
    expect(again.isDone()).toBe(true);
  });

  test("a GitHub 500 on a page of an installation's repositories leaves its list as it was, reconciles the others and exits 1", async () => {
    const a = remote(4101);
    const b = remote(4102);
    for (const gh of [a, b]) await seedInstallation(db(), gh.id, toInstallationSnapshot(gh));
    await addInstallationRepositories(db(), a.id, [{ id: 1, fullName: "org-4101/api", private: true }]);

    githubListsInstallations([[a, b]]);
    // Page 1 alone would make org-4101/api look gone.
    const failing = githubListsRepositories(a.id, [[repo(a.id, { id: 2, name: "web" })], 500]);
    const listed = githubListsRepositories(b.id, [[repo(b.id, { id: 3, name: "docs" })]]);
    const run = await cli().run(["reconcile"]);

    expect(run.exitCode).toBe(1);
    expect(run.out).toEqual(["repos      4102 org-4102: added org-4102/docs", "0 added, 0 updated, 0 removed, 2 unchanged; repositories: 1 added, 0 updated, 0 removed"]);
    expect(run.err[0]).toMatch(/^octoplex: listing the repositories of installation 4101 \(org-4101\) failed, its list is left as it was/);
    expect(failing.isDone() && listed.isDone()).toBe(true);
    expect((await listInstallationRepositories(db(), a.id)).map((r) => r.fullName)).toEqual(["org-4101/api"]);
    expect((await listInstallationRepositories(db(), b.id)).map((r) => r.fullName)).toEqual(["org-4102/docs"]);
  });

  test("without the app's id and key it fails listing what to set, before calling GitHub", async () => {
    const { APP_ID: _id, PRIVATE_KEY: _key, ...env } = cli().env;
    const run = await runCli(["reconcile"], env, cli().cwd);

    expect(run.exitCode).toBe(1);
    expect(run.err).toEqual([
      "Invalid configuration:",
      "  - APP_ID is required (the GitHub App's numeric id)",
      "  - PRIVATE_KEY or PRIVATE_KEY_PATH is required (the GitHub App's private key)",
    ]);
  });
});
