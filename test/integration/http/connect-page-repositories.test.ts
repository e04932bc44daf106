import { installationApiRoutes } from "../../fakes/github-installation-api";
import { ACME, acmeAndBobsTeam } from "../../fixtures/acme-team";
import { Browser, formFields, Page } from "../../helpers/browser";
import { createTestDatabase, databaseKinds, TestDatabase } from "../../helpers/databases";
import { E2E, startE2E } from "../../helpers/e2e";
import { addReachedRepositories } from "../../helpers/reached-repositories";
import { addInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { ALICE } from "../../helpers/users";

// The server keeps installation tokens in memory across tests while the fake starts over: new ids each test.
let nextInstallationId = 78001;

type Scope = "all" | number[];

/**
 * The connect page's repository picker through HTTP, as a browser without script uses it: the
 * page's own forms (their hidden fields read from the HTML), the real server, the fake GitHub.
 */
describe.each(databaseKinds())("the connect page's repository picker on %s", (kind) => {
  let database: TestDatabase;
  let e2e: E2E;
  let bob: Browser;
  let teamId: number;
  let acmeId: number;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    e2e = await startE2E(database);
    e2e.github.addRoutes(installationApiRoutes(e2e.github));
  });
  afterAll(async () => {
    await e2e?.close();
    await database?.drop();
  });

  /** The installation reaches repo-1 … repo-<n> on GitHub, and GitHub told Octoplex. */
  const reaches = (n: number) => addReachedRepositories(e2e, acmeId, Array.from({ length: n }, (_, i) => ({ id: i + 1, name: `repo-${i + 1}` })));

  const call = (who: Browser, method: string, path: string, body?: unknown) => who.json(method, e2e.url(path), body);
  const scopeOf = async (): Promise<Scope | undefined> =>
    ((await call(bob, "GET", `/api/teams/${teamId}/installations`)).body as Array<{ installationId: number; repositories: Scope }>).find(
      (l) => l.installationId === acmeId,
    )?.repositories;
  const connectPath = (query = "") => `/teams/${teamId}/connect${query}`;
  const picker = (who: Browser, q?: string) => who.goto(e2e.url(connectPath(`?installation=${acmeId}${q ? `&q=${encodeURIComponent(q)}` : ""}`)));

  /** The picker's checkboxes, in page order: [id, ticked]. */
  const boxes = (page: Page) =>
    [...page.text.matchAll(/<input type="checkbox" name="repository" value="(\d+)"( checked)?>/g)].map((m) => [Number(m[1]), m[2] !== undefined] as const);

  /** Submits the picker of `page` as a person does: its hidden fields, the ticked ids, one of its two buttons. */
  const save = (who: Browser, page: Page, ticked: number[], scope: "selected" | "all" = "selected") =>
    who.submit(e2e.url(connectPath("/repositories")), [
      ...Object.entries(formFields(page.text, connectPath("/repositories"))),
      ["scope", scope],
      ...ticked.map((id): [string, string] => ["repository", String(id)]),
    ]);

  const scopeChanges = async () => (await e2e.db("audit_events").where({ action: "team.installation.scope_changed" })).length;

  /** What an error page says to the person. */
  const said = (page: Page) => /<p class="lead" role="alert">([^<]*)<\/p>/.exec(page.text)?.[1];

  /** Alice signed in; Bob makes her a team member with `role`. */
  async function alice(role: "admin" | "member"): Promise<Browser> {
    const signedIn = await e2e.signIn(ALICE);
    expect((await call(bob, "PUT", `/api/teams/${teamId}/members/${ALICE.id}`, { role })).status).toBe(200);
    return signedIn;
  }

  beforeEach(async () => {
    await e2e.reset();
    ({ acmeId, bob, teamId } = await acmeAndBobsTeam(e2e, nextInstallationId++));
  });

  const link = async (repositories: Scope) =>
    expect((await call(bob, "POST", `/api/teams/${teamId}/installations`, { installationId: acmeId, repositories })).status).toBe(201);

  test("GET /teams/:teamId/connect shows each link's scope; ?installation opens its picker with the scope ticked, capped at 50 and saying how many are hidden", async () => {
    await reaches(60);
    await link([2, 3]);
    const overview = await bob.goto(e2e.url(connectPath()));
    expect(overview.text).toContain("This team: 2 repositories");
    expect(overview.text).toContain(`href="${connectPath(`?installation=${acmeId}#repositories-${acmeId}`).replace(/&/g, "&amp;")}"`);
    expect(overview.text).not.toContain('name="repository"');

    const page = await picker(bob);
    expect(page.status).toBe(200);
    expect(boxes(page)).toHaveLength(50);
    expect(boxes(page).filter(([, ticked]) => ticked).map(([id]) => id)).toEqual([2, 3]);
    expect(page.text).toContain("Showing 50 of 60 repositories; 10 more are hidden: search to find them.");
    // By full name: repo-1, repo-10 … repo-19, repo-2, …
    expect(boxes(page).slice(0, 3).map(([id]) => id)).toEqual([1, 10, 11]);
  });

  test("an installation with 3,000 repositories: the picker lists 50 and says 2,950 are hidden; a search reaches one of the hidden", async () => {
    await reaches(1);
    const many = Array.from({ length: 2999 }, (_, i) => ({ id: 1000 + i, fullName: `acme/svc-${String(i).padStart(4, "0")}`, private: true }));
    await addInstallationRepositories(e2e.db, acmeId, many);
    await link("all");
    const page = await picker(bob);
    expect(boxes(page)).toHaveLength(50);
    expect(page.text).toContain("Showing 50 of 3,000 repositories; 2,950 more are hidden: search to find them.");
    const found = await picker(bob, "svc-2998");
    expect(boxes(found)).toEqual([[3998, false]]);
  });

  test("a search narrows the list on the server and says how many match; a search matching nothing says so", async () => {
    await reaches(60);
    await link("all");
    const page = await picker(bob, "REPO-5");
    expect(boxes(page).map(([id]) => id)).toEqual([5, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
    expect(boxes(page).every(([, ticked]) => !ticked)).toBe(true); // "all": nothing ticked, the text says so
    expect(page.text).toContain("11 matches for “REPO-5” among 60 repositories, all shown.");
    expect(page.text).toContain("The team may use every repository of this account, now and later.");
    expect(page.text).toContain('value="REPO-5"');
    const none = await picker(bob, "%_");
    expect(boxes(none)).toEqual([]);
    expect(none.text).toContain("No repository name contains “%_” (of 60 repositories).");
  });

  test("POST /teams/:teamId/connect/repositories by a team admin: ticked ones replace the shown ones, ones the search hid stay, 303 back to the picker", async () => {
    await reaches(60);
    await link([2, 30]);
    const page = await picker(bob, "repo-5");
    const saved = await save(bob, page, [50, 51]);
    expect(saved.hops[0]).toMatchObject({ method: "POST", status: 303 });
    expect(saved.url).toBe(e2e.url(connectPath(`?installation=${acmeId}&q=repo-5&notice=saved#repositories-${acmeId}`)));
    expect(saved.text).toContain("Saved.");
    expect(await scopeOf()).toEqual([2, 30, 50, 51]);
    // Unticking a shown one narrows: repo-50 leaves, repo-2 and repo-30 (not shown) stay.
    await save(bob, await picker(bob, "repo-5"), [51]);
    expect(await scopeOf()).toEqual([2, 30, 51]);
    expect(boxes(await picker(bob)).filter(([, ticked]) => ticked).map(([id]) => id)).toEqual([2, 30, 51]);
    // The scope change is audited like the API's.
    expect(await scopeChanges()).toBe(2);
  });

  test("'Allow all repositories' widens to all for an org admin", async () => {
    await reaches(3);
    await link([1]);
    await save(bob, await picker(bob), [], "all");
    expect(await scopeOf()).toBe("all");
  });

  test("a plain team member sees the scope but no picker, and a post of the form is refused with a page in words; nothing changes", async () => {
    await reaches(3);
    await link([1]);
    const form = await picker(bob);
    const member = await alice("member");
    const page = await picker(member);
    expect(page.status).toBe(200);
    expect(page.text).toContain("This team: 1 repository");
    expect(page.text).not.toContain("Choose repositories");
    expect(boxes(page)).toEqual([]);

    // Alice posts the form Bob's page holds, with her own session's CSRF token.
    const csrf = formFields((await member.goto(e2e.url("/"))).text, "/teams").csrf;
    const fields: Array<[string, string]> = [...Object.entries({ ...formFields(form.text, connectPath("/repositories")), csrf }), ["scope", "selected"], ["repository", "2"]];
    const refused = await member.submit(e2e.url(connectPath("/repositories")), fields);
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/^<!doctype html>/);
    expect(said(refused)).toBe("Only a team admin may do this");
    expect(await scopeOf()).toEqual([1]);
    expect(await scopeChanges()).toBe(0);
  });

  test("widening by a team admin who is a plain org member is refused with a readable page; narrowing is allowed; nothing else changes", async () => {
    await reaches(3);
    await link([1, 2]);
    const admin = await alice("admin");
    const refused = await save(admin, await picker(admin), [1, 2, 3]);
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/^<!doctype html>/);
    expect(refused.text).not.toContain('"error"');
    expect(said(refused)).toBe(
      "Adding repositories (or all of them) to a team needs the same proof as connecting the account: Only an admin of acme may connect its installation to a team",
    );
    expect(refused.text).toContain(`href="${connectPath(`?installation=${acmeId}#repositories-${acmeId}`).replace(/&/g, "&amp;")}">Back`);
    expect(await scopeOf()).toEqual([1, 2]);
    expect((await save(admin, await picker(admin), [], "all")).status).toBe(403);
    expect(await scopeOf()).toEqual([1, 2]);
    expect(await scopeChanges()).toBe(0);

    expect((await save(admin, await picker(admin), [2])).status).toBe(200);
    expect(await scopeOf()).toEqual([2]);
  });

  test("a post whose CSRF token is not the session's is refused and changes nothing", async () => {
    await reaches(3);
    await link([1]);
    const fields = formFields((await picker(bob)).text, connectPath("/repositories"));
    const refused = await bob.submit(e2e.url(connectPath("/repositories")), [...Object.entries({ ...fields, csrf: "forged" }), ["scope", "all"]]);
    expect(refused.status).toBe(403);
    expect(said(refused)).toBe("The form expired; reload the page and try again");
    expect(await scopeOf()).toEqual([1]);
  });

  test("'Connect some repositories' links with none and opens the picker; ticking two and saving scopes the link to them", async () => {
    await reaches(3);
    const home = await bob.goto(e2e.url(connectPath()));
    const fields = formFields(home.text, connectPath("/link"), (f) => f.installation_id === String(acmeId));
    const landed = await bob.submit(e2e.url(connectPath("/link")), { ...fields, repositories: "selected" });
    expect(landed.url).toBe(e2e.url(connectPath(`?installation=${acmeId}&notice=connected#repositories-${acmeId}`)));
    expect(landed.text).toContain("Connected with no repositories yet");
    expect(await scopeOf()).toEqual([]);
    expect(boxes(landed)).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    await save(bob, landed, [1, 3]);
    expect(await scopeOf()).toEqual([1, 3]);

    // The same form posted again (a double click, a stale tab) opens the picker and leaves the scope alone.
    const again = await bob.submit(e2e.url(connectPath("/link")), { ...fields, repositories: "selected" });
    expect(again.url).toBe(e2e.url(connectPath(`?installation=${acmeId}#repositories-${acmeId}`)));
    expect(await scopeOf()).toEqual([1, 3]);
  });

  test("someone outside the team gets 404 pages for the picker and its form, as for the team itself; nothing changes", async () => {
    await reaches(3);
    await link([1]);
    const form = await picker(bob);
    const outsider = await e2e.signIn(ALICE);
    const page = await picker(outsider);
    expect(page.status).toBe(404);
    expect(boxes(page)).toEqual([]);
    const csrf = formFields((await outsider.goto(e2e.url("/"))).text, "/teams").csrf;
    const refused = await outsider.submit(e2e.url(connectPath("/repositories")), [...Object.entries({ ...formFields(form.text, connectPath("/repositories")), csrf }), ["scope", "all"]]);
    expect(refused.status).toBe(404);
    expect(said(refused)).toBe(`Team ${teamId} not found`);
    expect(await scopeOf()).toEqual([1]);
  });

  test("'Ask GitHub for the list again' (a team admin) makes the stored list GitHub's: missed repositories appear, removed ones go and leave the scope", async () => {
    await reaches(2);
    await link([1, 2]);
    // Webhooks Octoplex missed: repo-3 was added on GitHub, repo-2 removed from the installation.
    e2e.github.world.addRepository(e2e.github.world.org(ACME.login)!, { id: 3, name: "repo-3" });
    e2e.github.world.selectRepositories(acmeId, [1, 3]);
    const page = await picker(bob);
    expect(boxes(page)).toEqual([
      [1, true],
      [2, true],
    ]);
    const refreshed = await bob.submit(e2e.url(connectPath("/repositories/refresh")), formFields(page.text, connectPath("/repositories/refresh")));
    expect(refreshed.hops[0]).toMatchObject({ method: "POST", status: 303 });
    expect(refreshed.text).toContain("The list now matches what GitHub lists.");
    expect(boxes(refreshed)).toEqual([
      [1, true],
      [3, false],
    ]);
    expect(await scopeOf()).toEqual([1]);
    // Told like any repository leaving the installation: audited as the system's change.
    expect((await e2e.db("audit_events").where({ action: "team.installation.scope_changed" })).map((e) => e.actor_type)).toEqual(["system"]);

    const member = await alice("member");
    const csrf = formFields((await member.goto(e2e.url("/"))).text, "/teams").csrf;
    const refused = await member.submit(e2e.url(connectPath("/repositories/refresh")), { csrf, installation_id: String(acmeId) });
    expect(refused.status).toBe(403);
    expect(said(refused)).toBe("Only a team admin may do this");
  });

  test.each([
    ["shown", "1,x"],
    ["shown", "1,,2"],
    ["repository", "-1"],
    ["repository", "9007199254740993"],
    ["installation_id", "abc"],
    ["scope", "some"],
  ])("a form with %s=%j answers a 400 page and changes nothing", async (name, value) => {
    await reaches(3);
    await link([1]);
    const fields = new Map<string, string>([...Object.entries(formFields((await picker(bob)).text, connectPath("/repositories"))), ["scope", "selected"], ["repository", "2"]]);
    fields.set(name, value);
    const refused = await bob.submit(e2e.url(connectPath("/repositories")), [...fields]);
    expect(refused.status).toBe(400);
    expect(said(refused)).toBe("The request is missing a field or has a malformed one");
    expect(await scopeOf()).toEqual([1]);
  });

  test("?installation of an installation not connected to the team is a 404 page", async () => {
    const page = await picker(bob);
    expect(page.status).toBe(404);
    expect(said(page)).toBe(`Installation ${acmeId} is not connected to this team`);
  });
});
