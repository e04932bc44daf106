import { Browser, formFields, Page } from "../helpers/browser";
import { snapshotDatabase } from "../helpers/database-snapshot";
import { describeEachE2E } from "../helpers/e2e";
import { BOB } from "../helpers/users";
import { seedSetupWorld } from "../fixtures/setup-world";

/**
 * GitHub's setup URL and the pick form write only what GitHub has proved: a refused or failed
 * proof leaves no team behind and does not spend the person's install link, and what a success
 * writes (team, admin, link, audit, the state spent) is written together or not at all.
 */
describeEachE2E("setup writes all or nothing", ({ e2e }) => {
  let bob: Browser;
  const ids = { globex: 0, initech: 0 };

  const snapshot = () => snapshotDatabase(e2e().db);
  const acmeId = () => e2e().github.world.installations().find((i) => i.account.login === "acme")!.id;
  const links = async () => (await e2e().db("team_installations").select("team_id", "installation_id")).map((r) => [Number(r.team_id), Number(r.installation_id)]);
  const auditTrail = async () => (await e2e().db("audit_events").orderBy("id").select("action", "team_id", "installation_id")).map((r) => [r.action, Number(r.team_id), r.installation_id === null ? null : Number(r.installation_id)]);
  const landedOn = (page: Page) => new URL(page.url).pathname;

  beforeEach(async () => {
    Object.assign(ids, seedSetupWorld(e2e().github.world));
    bob = await e2e().signIn(BOB);
  });

  describe("POST /setup/link naming a new team (after an install from GitHub's own page)", () => {
    let fields: Record<string, string>;
    beforeEach(async () => {
      e2e().github.setInstallTarget(e2e().github.world.org("acme")!);
      const pick = await bob.goto(`${e2e().github.url}/apps/octoplex/installations/new`);
      fields = { ...formFields(pick.text, "/setup/link"), team_id: "", new_team_name: "Fresh team" };
    });

    test.each([
      ["the person is a plain member of the installation's org", 403],
      ["the installation is on an org the person does not belong to", 403],
    ])("when GitHub refuses the link (%s) it answers %i and writes no team, member or audit row", async (name, status) => {
      const before = await snapshot();
      const installationId = name.includes("plain member") ? ids.globex : ids.initech;
      const page = await bob.submit(e2e().url("/setup/link"), { ...fields, installation_id: String(installationId) });
      expect(page.status).toBe(status);
      expect(await snapshot()).toEqual(before);
    });

    test("when GitHub fails (502) while the link is proved, it answers 502 and writes no team", async () => {
      const before = await snapshot();
      e2e().github.failNext("/api/v3/user/memberships/orgs/acme", 502);
      const page = await bob.submit(e2e().url("/setup/link"), fields);
      expect(page.status).toBe(502);
      expect(await snapshot()).toEqual(before);
    });

    test("when GitHub accepts, the team, its admin, the link and both audit rows are written", async () => {
      const page = await bob.submit(e2e().url("/setup/link"), fields);
      expect(page.status).toBe(200);
      const [team] = await e2e().db("teams").select("id", "name");
      expect(team.name).toBe("Fresh team");
      const teamId = Number(team.id);
      expect(landedOn(page)).toBe(`/teams/${teamId}/connect`);
      expect((await e2e().db("team_members").select("team_id", "github_user_id", "role")).map((m) => [Number(m.team_id), Number(m.github_user_id), m.role])).toEqual([
        [teamId, BOB.id, "admin"],
      ]);
      expect(await links()).toEqual([[teamId, acmeId()]]);
      expect(await auditTrail()).toEqual([
        ["team.created", teamId, null],
        ["team.installation.linked", teamId, acmeId()],
      ]);
    });
  });

  describe("GET /setup with the person's install link (state)", () => {
    let team: number;
    let state: string;
    const setupUrl = (installationId: number) => e2e().url(`/setup?installation_id=${installationId}&setup_action=install&state=${encodeURIComponent(state)}`);
    /** Bob installs the app on acme (GitHub knows it; no webhook has told Octoplex yet). */
    const installAcme = () => e2e().github.world.install(e2e().github.world.org("acme")!).id;

    beforeEach(async () => {
      team = ((await bob.json("POST", e2e().url("/api/teams"), { name: "Bob's team" })).body as { id: number }).id;
      const res = await bob.json("GET", e2e().url(`/api/teams/${team}/installations/available`));
      state = new URL((res.body as { installUrl: string }).installUrl).searchParams.get("state")!;
    });

    test.each([
      ["an installation the person reaches only as a plain org member", () => ids.globex],
      ["an installation on an org the person does not belong to", () => ids.initech],
      ["an installation id GitHub does not know", () => 987654],
    ])("a spoofed installation_id (%s) is refused 403 without spending the state: the real install then links", async (_name, spoofed) => {
      const before = await snapshot();
      expect((await bob.goto(setupUrl(spoofed()))).status).toBe(403);
      expect(await snapshot()).toEqual(before);

      const acme = installAcme();
      const page = await bob.goto(setupUrl(acme));
      expect(landedOn(page)).toBe(`/teams/${team}/connect`);
      expect(await links()).toEqual([[team, acme]]);
    });

    test.each([
      ["GET /user/installations", "/api/v3/user/installations", 502],
      ["GET /user/installations", "/api/v3/user/installations", 503],
      ["the membership check", "/api/v3/user/memberships/orgs/acme", 502],
      ["GET /app/installations/:id", "/api/v3/app/installations/", 502],
    ])("GitHub failing %s (%s answers %i) answers 502/503 without spending the state: the same link works once GitHub is back", async (_name, prefix, status) => {
      const acme = installAcme();
      const before = await snapshot();
      e2e().github.failNext(prefix, status);
      const failed = await bob.goto(setupUrl(acme));
      expect([502, 503]).toContain(failed.status);
      expect(await snapshot()).toEqual(before);

      const page = await bob.goto(setupUrl(acme));
      expect(landedOn(page)).toBe(`/teams/${team}/connect`);
      expect(await links()).toEqual([[team, acme]]);
    });

    test("the state is spent with the link: used again it is refused 400", async () => {
      const acme = installAcme();
      expect(landedOn(await bob.goto(setupUrl(acme)))).toBe(`/teams/${team}/connect`);
      const before = await snapshot();
      expect((await bob.goto(setupUrl(acme))).status).toBe(400);
      expect(await snapshot()).toEqual(before);
    });

    test("two callbacks with one state at the same moment: one links, the other is refused 400, and the state is spent once", async () => {
      const acme = installAcme();
      const pages = await Promise.all([bob.goto(setupUrl(acme)), bob.goto(setupUrl(acme))]);
      expect(pages.map((p) => (p.status === 200 ? landedOn(p) : p.status)).sort()).toEqual([400, `/teams/${team}/connect`].sort());
      expect(await links()).toEqual([[team, acme]]);
      expect((await auditTrail()).filter(([action]) => action === "team.installation.linked")).toHaveLength(1);
      // (The connect page it lands on issues a fresh install link of its own, unused.)
      expect(await e2e().db("oauth_states").where({ purpose: "install" }).whereNotNull("used_at").select("purpose")).toHaveLength(1);
    });
  });
});
