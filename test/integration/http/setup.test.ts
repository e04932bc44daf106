import { Browser, formFields, Page } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { countRows } from "../../helpers/factories";
import { writeCounts } from "../../helpers/http-expect";
import { ALICE, BOB } from "../../helpers/users";
import { seedSetupWorld } from "../../fixtures/setup-world";

const MALLORY = { id: 5666, login: "mallory" };

const path = (page: Page) => new URL(page.url).pathname;
const trail = (page: Page) => page.hops.map((h) => `${h.status} ${new URL(h.url).pathname}`);

describeEachE2E("GitHub's setup URL and the install callback", ({ e2e }) => {
  let bob: Browser;
  let teamId: number;
  const ids = { globex: 0, initech: 0 };

  const createTeam = async (browser: Browser, name: string) =>
    ((await browser.json("POST", e2e().url("/api/teams"), { name })).body as { id: number }).id;
  const installUrlFor = async (browser: Browser, team: number) =>
    ((await browser.json("GET", e2e().url(`/api/teams/${team}/installations/available`))).body as { installUrl: string }).installUrl;
  const stateOf = (installUrl: string) => new URL(installUrl).searchParams.get("state")!;
  const linksOf = async (team: number) =>
    (await e2e().db("team_installations").where({ team_id: team }).pluck("installation_id")).map(Number);
  /** GitHub's "install" page for the app without a state, as the Marketplace or the app's public page links it. */
  const marketplaceInstall = () => `${e2e().github.url}/apps/octoplex/installations/new`;
  const setupUrl = (installationId: number, extra = "") => e2e().url(`/setup?installation_id=${installationId}&setup_action=install${extra}`);

  beforeEach(async () => {
    Object.assign(ids, seedSetupWorld(e2e().github.world));
    bob = await e2e().signIn(BOB);
    teamId = await createTeam(bob, "Team A");
  });

  describe("with the state Octoplex issued", () => {
    test("GET /setup after an install from the team's install link links the new installation to that team", async () => {
      e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
      const page = await bob.goto(await installUrlFor(bob, teamId));
      expect(trail(page)).toEqual(["302 /apps/octoplex/installations/new", "302 /setup", `200 /teams/${teamId}/connect`]);
      const [acme] = e2e().github.world.installations().filter((i) => i.account.login === "acme");
      expect(await linksOf(teamId)).toEqual([acme.id]);
    });

    test("GET /setup with setup_action=update (the app was already on the account) links it to this team too", async () => {
      const { github } = e2e();
      github.setInstallTarget(github.world.org("acme")!);
      await bob.goto(await installUrlFor(bob, teamId));
      const teamB = await createTeam(bob, "Team B");
      const page = await bob.goto(await installUrlFor(bob, teamB));
      expect(new URL(page.hops[1].url).searchParams.get("setup_action")).toBe("update");
      expect(path(page)).toBe(`/teams/${teamB}/connect`);
      expect(github.world.installations().filter((i) => i.account.login === "acme")).toHaveLength(1);
      expect(await countRows(e2e().db, "team_installations")).toBe(2);
    });

    test.each([
      ["an installation on an org the person does not belong to", "initech"],
      ["an installation the person reaches only as a plain org member", "globex"],
      ["an installation id GitHub does not know", "unknown"],
    ])("GET /setup with a state and a spoofed installation_id (%s) answers 403 and links nothing", async (_name, which) => {
      const state = stateOf(await installUrlFor(bob, teamId));
      const before = await writeCounts(e2e().db);
      const installationId = which === "unknown" ? 987654 : ids[which as keyof typeof ids];
      const page = await bob.goto(setupUrl(installationId, `&state=${encodeURIComponent(state)}`));
      expect(page.status).toBe(403);
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test("GET /setup with a state issued to another person answers 403 and links nothing", async () => {
      const alice = await e2e().signIn(ALICE);
      const aliceTeam = await createTeam(alice, "Alice's team");
      const aliceState = stateOf(await installUrlFor(alice, aliceTeam));
      const before = await writeCounts(e2e().db);
      const page = await bob.goto(setupUrl(ids.initech, `&state=${encodeURIComponent(aliceState)}`));
      expect(page.status).toBe(403);
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test("GET /setup with a forged or already used state answers 400 and links nothing more", async () => {
      const { github } = e2e();
      github.setInstallTarget(github.world.org("acme")!);
      const done = await bob.goto(await installUrlFor(bob, teamId));
      const used = new URL(done.hops[1].url);
      const before = await writeCounts(e2e().db);
      expect((await bob.goto(used.toString())).status).toBe(400);
      const forged = await bob.goto(setupUrl(Number(used.searchParams.get("installation_id")), "&state=forged.state"));
      expect(forged.status).toBe(400);
      expect(await writeCounts(e2e().db)).toEqual(before);
    });
  });

  describe("without a state (installed from the Marketplace or the app's page)", () => {
    test("the person picks one of the teams they administer, and the installation ends linked to it", async () => {
      const alice = await e2e().signIn(ALICE);
      const aliceTeam = await createTeam(alice, "Alice's team");
      await alice.json("PUT", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`), { role: "member" });
      const teamB = await createTeam(bob, "Team B");

      e2e().github.signInAs(BOB);
      e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
      const pick = await bob.goto(marketplaceInstall());
      expect(trail(pick)).toEqual(["302 /apps/octoplex/installations/new", "200 /setup"]);
      expect(pick.text).toContain("Connect acme to a team");
      // Only the teams Bob administers are offered, plus a new one.
      const options = [...pick.text.matchAll(/<option value="(\d*)">([^<]*)<\/option>/g)].map((m) => [m[1], m[2]]);
      expect(options).toEqual([
        [String(teamId), "Team A"],
        [String(teamB), "Team B"],
        ["", "A new team…"],
      ]);
      expect(await countRows(e2e().db, "team_installations")).toBe(0);

      const fields = formFields(pick.text, "/setup/link");
      const [acme] = e2e().github.world.installations().filter((i) => i.account.login === "acme");
      expect(fields).toEqual({ csrf: expect.any(String), installation_id: String(acme.id) });
      const done = await bob.submit(e2e().url("/setup/link"), { ...fields, team_id: String(teamB), new_team_name: "" });
      expect(trail(done)).toEqual(["303 /setup/link", `200 /teams/${teamB}/connect`]);
      expect(await linksOf(teamB)).toEqual([acme.id]);
      expect(await countRows(e2e().db, "team_installations")).toBe(1);
    });

    test("the person may name a new team instead; they become its admin and it gets the installation", async () => {
      e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
      const pick = await bob.goto(marketplaceInstall());
      const done = await bob.submit(e2e().url("/setup/link"), { ...formFields(pick.text, "/setup/link"), team_id: "", new_team_name: "Fresh team" });
      expect(done.status).toBe(200);
      const teams = (await bob.json("GET", e2e().url("/api/teams"))).body as Array<{ id: number; name: string; role: string }>;
      const fresh = teams.find((t) => t.name === "Fresh team")!;
      expect(fresh.role).toBe("admin");
      expect(path(done)).toBe(`/teams/${fresh.id}/connect`);
      expect((await linksOf(fresh.id)).length).toBe(1);
    });

    test.each([
      ["an existing team", "existing"],
      ["a new team", "new"],
    ])("choosing 'Only the ones I choose next' links %s with no repositories and opens the link's repository picker", async (_name, which) => {
      e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
      const pick = await bob.goto(marketplaceInstall());
      expect(pick.text).toContain('<input type="radio" name="repositories" value="all" checked>');
      const team = which === "existing" ? { team_id: String(teamId), new_team_name: "" } : { team_id: "", new_team_name: "Picky team" };
      const done = await bob.submit(e2e().url("/setup/link"), { ...formFields(pick.text, "/setup/link"), ...team, repositories: "selected" });
      const [acme] = e2e().github.world.installations().filter((i) => i.account.login === "acme");
      const linkedTeam = which === "existing" ? teamId : Number(/^\/teams\/(\d+)\/connect$/.exec(path(done))?.[1]);
      expect(done.url).toBe(e2e().url(`/teams/${linkedTeam}/connect?installation=${acme.id}&notice=connected#repositories-${acme.id}`));
      expect(done.text).toContain("Connected with no repositories yet");
      const linked = (await bob.json("GET", e2e().url(`/api/teams/${linkedTeam}/installations`))).body as Array<{ installationId: number; repositories: unknown }>;
      expect(linked).toEqual([expect.objectContaining({ installationId: acme.id, repositories: [] })]);
    });

    test("someone not signed in to Octoplex signs in first and comes back to the setup page", async () => {
      e2e().github.signInAs(BOB);
      e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
      const stranger = e2e().browser();
      const pick = await stranger.goto(marketplaceInstall());
      expect(trail(pick)).toEqual([
        "302 /apps/octoplex/installations/new",
        "302 /setup",
        "302 /auth/login",
        "302 /login/oauth/authorize",
        "302 /auth/callback",
        "200 /setup",
      ]);
      expect(pick.text).toContain("Connect acme to a team");
    });

    test.each([
      ["an installation on an org the person does not belong to", "initech"],
      ["an installation the person reaches only as a plain org member", "globex"],
      ["an installation id GitHub does not know", "unknown"],
    ])("GET /setup with a spoofed installation_id (%s) answers 403, offers no pick and stores nothing", async (_name, which) => {
      const before = await writeCounts(e2e().db);
      const page = await bob.goto(setupUrl(which === "unknown" ? 987654 : ids[which as keyof typeof ids]));
      expect(page.status).toBe(403);
      expect(page.text).not.toContain('action="/setup/link"');
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    describe("the pick form (POST /setup/link)", () => {
      let fields: Record<string, string>;
      beforeEach(async () => {
        e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
        fields = formFields((await bob.goto(marketplaceInstall())).text, "/setup/link");
      });

      test.each<[string, (f: Record<string, string>) => Record<string, string>, number]>([
        ["without a CSRF token", ({ csrf: _c, ...f }) => ({ ...f, team_id: "TEAM" }), 400],
        ["with another session's CSRF token", (f) => ({ ...f, csrf: "x".repeat(43), team_id: "TEAM" }), 403],
        ["with a spoofed installation_id", (f) => ({ ...f, installation_id: "INITECH", team_id: "TEAM" }), 403],
        ["with neither a team nor a new team name", (f) => ({ ...f, team_id: "", new_team_name: "" }), 400],
        ["naming a team that does not exist", (f) => ({ ...f, team_id: "999999" }), 404],
      ])("%s links nothing", async (_name, change, status) => {
        const before = await writeCounts(e2e().db);
        const posted = Object.fromEntries(
          Object.entries(change(fields)).map(([k, v]) => [k, v.replace("TEAM", String(teamId)).replace("INITECH", String(ids.initech))]),
        );
        const page = await bob.submit(e2e().url("/setup/link"), posted);
        expect(page.status).toBe(status);
        expect(await writeCounts(e2e().db)).toEqual(before);
      });

      test("naming a team the person is only a member of answers 403 and links nothing", async () => {
        const alice = await e2e().signIn(ALICE);
        const aliceTeam = await createTeam(alice, "Alice's team");
        await alice.json("PUT", e2e().url(`/api/teams/${aliceTeam}/members/${BOB.id}`), { role: "member" });
        const before = await writeCounts(e2e().db);
        const page = await bob.submit(e2e().url("/setup/link"), { ...fields, team_id: String(aliceTeam) });
        expect(page.status).toBe(403);
        expect(await writeCounts(e2e().db)).toEqual(before);
      });

      test("naming someone else's team answers 404 and links nothing", async () => {
        const alice = await e2e().signIn(ALICE);
        const aliceTeam = await createTeam(alice, "Alice's team");
        const before = await writeCounts(e2e().db);
        expect((await bob.submit(e2e().url("/setup/link"), { ...fields, team_id: String(aliceTeam) })).status).toBe(404);
        expect(await writeCounts(e2e().db)).toEqual(before);
      });
    });
  });

  describe("the install callback (GET /auth/callback?code&installation_id&setup_action, no state)", () => {
    /** The hops of an install callback in a browser with no session: its code is dropped, and the person signs in by the state-bound flow. */
    const signInFirst = ["302 /auth/callback", "302 /setup", "302 /auth/login", "302 /login/oauth/authorize", "302 /auth/callback"];

    test("an install with OAuth during installation signs the person in by a sign-in of this browser and continues to the setup page", async () => {
      const { github } = e2e();
      github.app.requestOAuthOnInstall = true;
      github.signInAs(BOB);
      github.setInstallTarget(github.world.org("acme")!);
      const fresh = e2e().browser();
      const pick = await fresh.goto(marketplaceInstall());
      expect(trail(pick)).toEqual(["302 /apps/octoplex/installations/new", ...signInFirst, "200 /setup"]);
      expect(pick.text).toContain("Connect acme to a team");
      const done = await fresh.submit(e2e().url("/setup/link"), { ...formFields(pick.text, "/setup/link"), team_id: String(teamId) });
      expect(path(done)).toBe(`/teams/${teamId}/connect`);
      expect((await linksOf(teamId)).length).toBe(1);
    });

    test("an install callback in a browser already signed in goes to the setup page without trading the code", async () => {
      const { github } = e2e();
      github.app.requestOAuthOnInstall = true;
      github.signInAs(BOB);
      github.setInstallTarget(github.world.org("acme")!);
      const before = await countRows(e2e().db, "sessions");
      const pick = await bob.goto(marketplaceInstall());
      expect(trail(pick)).toEqual(["302 /apps/octoplex/installations/new", "302 /auth/callback", "200 /setup"]);
      expect(pick.text).toContain("Connect acme to a team");
      expect(await countRows(e2e().db, "sessions")).toBe(before);
    });

    test("an install callback carrying someone else's code (login CSRF) signs the browser in as itself, never as the code's owner", async () => {
      const { github, db } = e2e();
      const acme = github.world.install(github.world.org("acme")!);
      // Mallory's own code, from an install of hers, sent to Bob's browser, which is not signed in.
      github.addCode("code-mallory", MALLORY);
      github.signInAs(BOB);
      const victim = e2e().browser();
      const page = await victim.goto(e2e().url(`/auth/callback?code=code-mallory&installation_id=${acme.id}&setup_action=install`));
      expect(trail(page)).toEqual([...signInFirst, "200 /setup"]);
      expect(page.text).toContain("bob");
      expect(page.text).not.toContain("mallory");
      expect(await db("github_users").where({ id: MALLORY.id }).first()).toBeUndefined();
    });

    test.each([
      ["someone who is not a member of the org", MALLORY, "acme-installed"],
      ["a plain member of the org", BOB, "globex"],
      ["an installation id GitHub does not know", BOB, "unknown"],
    ])("a spoofed installation_id from %s links nothing", async (_name, who, which) => {
      const { github, db } = e2e();
      const acme = github.world.install(github.world.org("acme")!);
      const browser = await e2e().signIn(who);
      const before = await writeCounts(db);
      const installationId = which === "acme-installed" ? acme.id : which === "globex" ? ids.globex : 987654;
      const page = await browser.goto(e2e().url(`/auth/callback?code=code-${who.login}&installation_id=${installationId}&setup_action=install`));
      expect(trail(page)).toEqual(["302 /auth/callback", "403 /setup"]);
      expect(await writeCounts(db)).toEqual(before);
    });

    test("an install callback that carries the install link's state links to that team (the state is checked on the setup page)", async () => {
      const { github } = e2e();
      const acme = github.world.install(github.world.org("acme")!);
      const state = stateOf(await installUrlFor(bob, teamId));
      github.signInAs(BOB);
      const page = await e2e().browser().goto(e2e().url(`/auth/callback?code=code-bob&installation_id=${acme.id}&setup_action=install&state=${encodeURIComponent(state)}`));
      expect(trail(page)).toEqual([...signInFirst, "302 /setup", `200 /teams/${teamId}/connect`]);
      expect(await linksOf(teamId)).toEqual([acme.id]);
    });

    test.each(["abc", "-1", "1.5", "1;DROP TABLE teams"])("installation_id=%j answers 400 and stores nothing", async (bad) => {
      e2e().github.addCode("code-x", BOB);
      const before = { ...(await writeCounts(e2e().db)), sessions: await countRows(e2e().db, "sessions") };
      const hop = await e2e().browser().request(e2e().url(`/auth/callback?code=code-x&installation_id=${encodeURIComponent(bad)}&setup_action=install`));
      expect(hop.status).toBe(400);
      expect({ ...(await writeCounts(e2e().db)), sessions: await countRows(e2e().db, "sessions") }).toEqual(before);
    });
  });

  test("GET /setup?setup_action=request (a member asked the org's owners) explains what happens next and stores nothing", async () => {
    const before = await writeCounts(e2e().db);
    const page = await bob.goto(e2e().url("/setup?setup_action=request"));
    expect(page.status).toBe(200);
    expect(page.text).toContain("Install requested");
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test.each(["abc", "-1", "1.5", "1;DROP TABLE teams", "9007199254740993"])("GET /setup with installation_id=%j answers 400 and stores nothing", async (bad) => {
    const before = await writeCounts(e2e().db);
    const page = await bob.goto(e2e().url(`/setup?installation_id=${encodeURIComponent(bad)}&setup_action=install`));
    expect(page.status).toBe(400);
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test.each([
    ["GET /user/installations", "/api/v3/user/installations"],
    ["the membership check", "/api/v3/user/memberships/orgs/acme"],
    ["GET /app/installations/:id", "/api/v3/app/installations/"],
  ])("GET /setup when GitHub answers 502 to %s shows a 502 page and stores nothing", async (_name, prefix) => {
    const { github } = e2e();
    const acme = github.world.install(github.world.org("acme")!);
    const before = await writeCounts(e2e().db);
    github.failNext(prefix, 502);
    const page = await bob.goto(setupUrl(acme.id));
    expect(page.status).toBe(502);
    expect(await writeCounts(e2e().db)).toEqual(before);
  });
});
