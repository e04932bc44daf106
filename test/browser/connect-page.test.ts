import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { describeWithChromium, launchChromium } from "../helpers/chromium";
import { createTestDatabase, TestDatabase } from "../helpers/databases";
import { E2E, startE2E } from "../helpers/e2e";
import { addReachedRepositories } from "../helpers/reached-repositories";
import { runAlone } from "../helpers/run-alone";
import { BOB } from "../helpers/users";

runAlone();

/**
 * The connect page in a real browser (Debian's Chromium through playwright-core), against the real
 * server and the fake GitHub. One database is enough here (SQLite): the HTTP and e2e suites cover
 * Postgres. Without Chromium the file is skipped with a warning, unless CI=true, where it fails.
 */
const SCREENSHOT = join(__dirname, "..", "..", "test-results", "connect-page.png");
const PICKER_SCREENSHOT = join(__dirname, "..", "..", "test-results", "connect-page-repositories.png");
const ACME = { id: 9001, login: "acme" };
const GLOBEX = { id: 9002, login: "globex" };
/** A 1×1 PNG: what the avatar CDN answers (the fake's avatar URLs point at a host that does not exist). */
const PIXEL = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

/**
 * Runs in the page (a string: this project compiles without the DOM's types). Lists what a person
 * with a screen reader or a keyboard would trip on: unlabelled fields, unnamed buttons, forms that
 * cannot be submitted, images without alt text or that did not load, duplicate ids.
 */
const MARKUP_PROBLEMS = `(() => {
  const out = [];
  for (const field of document.querySelectorAll("input, select, textarea")) {
    if (field.type === "hidden") continue;
    if (!(field.labels && field.labels.length) && !field.getAttribute("aria-label") && !field.getAttribute("aria-labelledby")) out.push("unlabelled field " + (field.name || field.id));
  }
  for (const button of document.querySelectorAll("button")) {
    if (!button.getAttribute("aria-label") && !button.textContent.trim()) out.push("unnamed button " + button.outerHTML);
  }
  for (const form of document.querySelectorAll("form")) {
    if (!form.querySelector("button[type=submit], button:not([type]), input[type=submit]")) out.push("form without a submit button: " + form.action);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) out.push("img without alt: " + img.src);
    else if (!img.complete || img.naturalWidth === 0) out.push("img not loaded: " + img.src);
  }
  const ids = Array.from(document.querySelectorAll("[id]"), (e) => e.id);
  ids.forEach((id, i) => { if (ids.indexOf(id) !== i) out.push("duplicate id " + id); });
  return out;
})()`;

describeWithChromium("the connect page in Chromium", () => {
  jest.setTimeout(60_000);

  let database: TestDatabase;
  let e2e: E2E;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Console errors, uncaught page errors, failed requests and requests that left loopback. */
  let problems: string[];

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    e2e = await startE2E(database);
    const launched = await launchChromium();
    if (!launched.browser) throw new Error(launched.reason); // describeWithChromium skipped this case already
    browser = launched.browser;
  });

  // Each test: empty tables, an empty GitHub world, and no cookies. One browser context for the
  // file: Chromium runs as a single process (test/helpers/chromium.ts), which ends with its first context.
  beforeEach(async () => {
    await e2e.reset();
    problems = [];
    if (!context) {
      context = await browser.newContext({ viewport: { width: 1000, height: 800 }, colorScheme: "light" });
      // Nothing leaves the machine: loopback goes through, the avatar CDN answers a pixel, anything else is a problem.
      await context.route("**/*", async (route) => {
        const url = new URL(route.request().url());
        if (url.hostname === "127.0.0.1" || url.hostname === "localhost") return route.continue();
        if (url.hostname === "avatars.githubusercontent.com") return route.fulfill({ status: 200, contentType: "image/png", body: PIXEL });
        problems.push(`request off the machine: ${route.request().method()} ${url.href}`);
        return route.abort();
      });
    }
    await context.clearCookies();
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
  });

  afterEach(() => page?.close());

  afterAll(async () => {
    await browser?.close();
    await e2e?.close();
    await database?.drop();
  });

  const links = (teamId: number) => e2e.db("team_installations").where({ team_id: teamId }).select("installation_id", "linked_by");

  /** Every page: one h1, a title, a language, and nothing in MARKUP_PROBLEMS. */
  async function expectWellFormed(): Promise<void> {
    await page.waitForLoadState("load");
    expect(await page.getByRole("heading", { level: 1 }).count()).toBe(1);
    expect(await page.title()).toMatch(/Octoplex$/);
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(await page.evaluate<string[]>(MARKUP_PROBLEMS)).toEqual([]);
  }

  /** Waits until the element is there and visible (a server-rendered page has replaced the last one). */
  const visible = (locator: Locator) => locator.waitFor({ state: "visible", timeout: 15_000 });

  /** Clicks a form's button and answers the status of the form post (the 303 before the page it leads to). */
  async function submitWith(button: Locator, path: string): Promise<number> {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path, { timeout: 15_000 }),
      button.click(),
    ]);
    return response.status();
  }

  /** From the signed-out home page through GitHub's authorize page (the fake bounces straight back) to home, signed in. */
  async function signInFromHome(): Promise<void> {
    await page.goto(e2e.url("/"));
    await expectWellFormed();
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await visible(page.getByRole("heading", { level: 1, name: "Your teams" }));
    expect(page.url()).toBe(e2e.url("/"));
    expect(await page.getByRole("banner").innerText()).toContain("Signed in as bob");
    const cookie = (await context.cookies(e2e.baseUrl)).find((c) => c.name === "octoplex_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });
    await expectWellFormed();
  }

  /** The home page's "New team" form; answers the id of the team whose connect page it lands on. */
  async function createTeamFromHome(name: string): Promise<number> {
    await page.getByLabel("Team name").fill(name);
    expect(await submitWith(page.getByRole("button", { name: "Create team" }), "/teams")).toBe(303);
    await visible(page.getByRole("heading", { level: 1, name: `Connect GitHub to ${name}` }));
    const teamId = Number(/\/teams\/(\d+)\/connect$/.exec(page.url())?.[1]);
    expect(await e2e.db("teams").where({ id: teamId }).first()).toMatchObject({ name });
    expect(await e2e.db("team_members").where({ team_id: teamId })).toEqual([expect.objectContaining({ github_user_id: BOB.id, role: "admin" })]);
    return teamId;
  }

  test("sign in, create a team, connect acme, see it connected, unlink it", async () => {
    const { github } = e2e;
    const acme = github.world.addOrg(ACME);
    github.world.setMembership(acme, BOB, "admin");
    const installation = github.world.install(acme);
    github.signInAs(BOB); // Bob is signed in to GitHub in this browser

    await signInFromHome();
    const teamId = await createTeamFromHome("Platform");

    const connected = page.getByRole("region", { name: "Connected" });
    const available = page.getByRole("region", { name: "Available to connect" });
    expect(await connected.innerText()).toContain("No GitHub account is connected to this team yet.");
    await visible(available.getByRole("listitem").filter({ hasText: "acme" }));
    expect(await page.getByRole("link", { name: "Install on a new account" }).getAttribute("href")).toMatch(/\/apps\/octoplex\/installations\/new\?state=/);
    await expectWellFormed();
    expect(await links(teamId)).toEqual([]);

    // Connect acme: it moves under "Connected", and the database holds the link.
    expect(await submitWith(available.getByRole("button", { name: "Connect acme" }), `/teams/${teamId}/connect/link`)).toBe(303);
    await visible(connected.getByRole("button", { name: "Unlink acme" }));
    expect(page.url()).toBe(e2e.url(`/teams/${teamId}/connect`));
    expect(await connected.getByRole("listitem").filter({ hasText: "acme" }).count()).toBe(1);
    expect(await available.getByRole("button", { name: "Connect acme" }).count()).toBe(0);
    expect(await available.innerText()).toContain("No other installation of the app is reachable");
    await expectWellFormed();
    expect(await links(teamId)).toEqual([{ installation_id: installation.id, linked_by: BOB.id }]);

    // A picture of the page with acme connected (expectWellFormed waited for the avatar).
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Unlink: acme is back under "Available to connect", and the link row is gone.
    expect(await submitWith(connected.getByRole("button", { name: "Unlink acme" }), `/teams/${teamId}/connect/unlink`)).toBe(303);
    await visible(available.getByRole("button", { name: "Connect acme" }));
    expect(await connected.innerText()).toContain("No GitHub account is connected to this team yet.");
    await expectWellFormed();
    expect(await links(teamId)).toEqual([]);
    // The installation itself stays known; only the link went.
    expect(await e2e.db("installations").where({ id: installation.id })).toHaveLength(1);

    // Back home through the header, where the team is listed, then sign out.
    await page.getByRole("banner").getByRole("link", { name: "Octoplex" }).click();
    await visible(page.getByRole("heading", { level: 1, name: "Your teams" }));
    expect(await page.getByRole("list", { name: "Your teams" }).innerText()).toContain("Platform");
    expect(await submitWith(page.getByRole("button", { name: "Sign out" }), "/auth/logout")).toBe(303);
    await visible(page.getByRole("link", { name: "Sign in with GitHub" }));
    expect((await context.cookies(e2e.baseUrl)).find((c) => c.name === "octoplex_session")).toBeUndefined();
    expect(await e2e.db("sessions").where({ github_user_id: BOB.id }).whereNull("revoked_at")).toEqual([]);

    expect(problems).toEqual([]);
  });

  test("connect some repositories of acme: pick two in the picker, save, reload and see them ticked; a search narrows the list", async () => {
    const { github } = e2e;
    const acme = github.world.addOrg(ACME);
    github.world.setMembership(acme, BOB, "admin");
    const installation = github.world.install(acme, { repositorySelection: "selected" });
    const [api, , web] = await addReachedRepositories(e2e, installation.id, ["api", "docs", "web", "infra", "mobile"].map((name) => ({ name })));
    github.signInAs(BOB);

    await signInFromHome();
    const teamId = await createTeamFromHome("Apps");
    const available = page.getByRole("region", { name: "Available to connect" });
    expect(await submitWith(available.getByRole("button", { name: "Connect some repositories of acme" }), `/teams/${teamId}/connect/link`)).toBe(303);

    // Linked with none yet; the picker is open with every repository unticked.
    const picker = page.getByRole("region", { name: "Repositories of acme" });
    await visible(picker);
    expect(await picker.getByRole("status").innerText()).toContain("Connected with no repositories yet");
    const list = picker.getByRole("list", { name: "Repositories of acme" });
    const acmeCard = page.getByRole("list", { name: "Linked installations" }).getByRole("listitem").filter({ hasText: "acme" });
    expect(await list.getByRole("checkbox").count()).toBe(5);
    expect(await list.getByRole("checkbox", { checked: true }).count()).toBe(0);
    expect(await acmeCard.innerText()).toContain("This team: No repositories yet");
    await expectWellFormed();

    await list.getByRole("checkbox", { name: "acme/api" }).check();
    await list.getByRole("checkbox", { name: "acme/web" }).check();
    expect(await submitWith(picker.getByRole("button", { name: "Save ticked repositories" }), `/teams/${teamId}/connect/repositories`)).toBe(303);
    await visible(picker.getByRole("status").filter({ hasText: "Saved." }));
    const scope = async () => (await e2e.db("team_installation_repositories").where({ team_id: teamId }).orderBy("repository_id").pluck("repository_id")).map(Number);
    expect(await scope()).toEqual([api.id, web.id]);

    // A reload (a GET of the page the save led to) shows exactly those two ticked.
    await page.reload();
    await visible(picker);
    const ticked = async () => list.getByRole("checkbox", { checked: true }).evaluateAll((boxes) => boxes.map((b) => (b.parentElement?.textContent ?? "").trim()));
    expect(await ticked()).toEqual(["acme/api private", "acme/web private"]);
    expect(await acmeCard.innerText()).toContain("This team: 2 repositories");
    await expectWellFormed();
    await page.screenshot({ path: PICKER_SCREENSHOT, fullPage: true });

    // The search is a GET the server answers with the narrowed list; the tick survives it.
    await picker.getByLabel("Search acme's repositories").fill("we");
    await picker.getByRole("button", { name: "Search", exact: true }).click();
    await visible(picker.getByText("1 match for “we” among 5 repositories, all shown."));
    expect(new URL(page.url()).searchParams.get("q")).toBe("we");
    expect(await list.getByRole("checkbox").count()).toBe(1);
    expect(await ticked()).toEqual(["acme/web private"]);
    await expectWellFormed();

    expect(problems).toEqual([]);
  });

  test("Install on a new account: GitHub installs on globex and the page comes back with it connected", async () => {
    const { github } = e2e;
    const globex = github.world.addOrg(GLOBEX);
    github.world.setMembership(globex, BOB, "admin");
    github.signInAs(BOB);
    github.setInstallTarget(globex); // what Bob picks on GitHub's install page

    await signInFromHome();
    const teamId = await createTeamFromHome("Growth");
    const available = page.getByRole("region", { name: "Available to connect" });
    expect(await available.innerText()).toContain("No other installation of the app is reachable");

    // The fake's install page installs at once and sends the browser to /setup with the state; Octoplex links and returns.
    await page.getByRole("link", { name: "Install on a new account" }).click();
    const connected = page.getByRole("region", { name: "Connected" });
    await visible(connected.getByRole("button", { name: "Unlink globex" }));
    expect(page.url()).toBe(e2e.url(`/teams/${teamId}/connect`));
    await expectWellFormed();
    const installation = github.world.installations().find((i) => i.account.login === "globex");
    expect(installation).toBeDefined();
    expect(await links(teamId)).toEqual([{ installation_id: installation!.id, linked_by: BOB.id }]);

    expect(problems).toEqual([]);
  });
});
