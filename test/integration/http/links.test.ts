import { githubUser } from "../../fixtures/github-objects";
import type { Browser } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { countRows } from "../../helpers/factories";
import { expectError, writeCounts } from "../../helpers/http-expect";
import { ALICE, BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme" }; // Bob is an admin
const GLOBEX = { id: 9002, login: "globex" }; // Bob is a plain member
const INITECH = { id: 9003, login: "initech" }; // Bob is not a member
const HOOLI = { id: 9004, login: "hooli" }; // Bob's admin invitation is pending

interface Available {
  installations: Array<{
    installationId: number;
    account: { id: number; login: string; type: string };
    repositorySelection: string;
    suspended: boolean;
    linked: boolean;
    linkable: boolean;
  }>;
  installUrl: string;
}

describeEachE2E("installation links", ({ e2e }) => {
  let bob: Browser;
  let teamId: number;
  let otherTeamId: number;
  const ids = { acme: 0, globex: 0, initech: 0, hooli: 0, bobUser: 0, aliceUser: 0 };

  const call = (method: string, path: string, body?: unknown) => bob.json(method, e2e().url(path), body);
  const link = (installationId: unknown, team = teamId) => call("POST", `/api/teams/${team}/installations`, { installationId });
  const available = async (team = teamId) => {
    const hop = await call("GET", `/api/teams/${team}/installations/available`);
    expect(hop.status).toBe(200);
    return hop.body as Available;
  };

  beforeEach(async () => {
    const { world } = e2e().github;
    const [acme, globex, initech, hooli] = [ACME, GLOBEX, INITECH, HOOLI].map((o) => world.addOrg(o));
    world.setMembership(acme, BOB, "admin");
    world.setMembership(globex, BOB, "member");
    world.setMembership(initech, ALICE, "admin");
    world.setMembership(hooli, BOB, "admin", "pending");
    ids.acme = world.install(acme).id;
    ids.globex = world.install(globex, { repositorySelection: "selected" }).id;
    ids.initech = world.install(initech).id;
    ids.hooli = world.install(hooli).id;
    ids.bobUser = world.install(BOB).id;
    ids.aliceUser = world.install(ALICE).id;
    bob = await e2e().signIn(BOB);
    teamId = ((await call("POST", "/api/teams", { name: "Team A" })).body as { id: number }).id;
    otherTeamId = ((await call("POST", "/api/teams", { name: "Team B" })).body as { id: number }).id;
  });

  test("GET /api/teams/:teamId/installations/available lists what the caller reaches, marked linked and linkable, with an installUrl for this team", async () => {
    expect((await link(ids.acme)).status).toBe(201);
    const { installations, installUrl } = await available();
    expect(installations).toEqual([
      { installationId: ids.acme, account: expect.objectContaining({ id: ACME.id, login: "acme", type: "Organization" }), repositorySelection: "all", suspended: false, linked: true, linkable: true },
      expect.objectContaining({ installationId: ids.globex, repositorySelection: "selected", linked: false, linkable: false }),
      expect.objectContaining({ installationId: ids.bobUser, account: expect.objectContaining({ id: BOB.id, login: "bob", type: "User" }), linked: false, linkable: true }),
    ]);
    // initech is Alice's org, hooli's membership is only pending: GitHub does not list them for Bob.
    const url = new URL(installUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${e2e().github.url}/apps/octoplex/installations/new`);
    const stateRow = await e2e().db("oauth_states").where({ purpose: "install" }).first();
    expect({ teamId: Number(stateRow.team_id), user: Number(stateRow.github_user_id), returnTo: stateRow.return_to }).toEqual({
      teamId,
      user: BOB.id,
      returnTo: `/teams/${teamId}/connect`,
    });
    // For another team the same installation is not linked.
    expect((await available(otherTeamId)).installations[0]).toEqual(expect.objectContaining({ installationId: ids.acme, linked: false }));
  });

  test("GET …/available marks an org installation linkable:false when the admin membership is not active", async () => {
    e2e().github.world.setMembership("globex", BOB, "admin", "active");
    e2e().github.world.setMembership("hooli", BOB, "admin", "active");
    e2e().github.world.setMembership("acme", BOB, "admin", "pending");
    const byId = new Map((await available()).installations.map((i) => [i.installationId, i.linkable]));
    expect(Object.fromEntries(byId)).toEqual({ [ids.globex]: true, [ids.hooli]: true, [ids.bobUser]: true });
  });

  test("POST /api/teams/:teamId/installations links an installation the caller administers: 201, stored from GitHub, audited", async () => {
    const hop = await link(ids.acme);
    expect(hop.status).toBe(201);
    expect(hop.body).toEqual({
      installationId: ids.acme,
      account: { id: ACME.id, login: "acme", type: "Organization", avatarUrl: githubUser(ACME).avatar_url },
      repositorySelection: "all",
      suspended: false,
      linkedAt: expect.any(String),
      linkedBy: BOB.id,
      repositories: "all",
    });
    expect(await e2e().db("installations").pluck("id").then((r) => r.map(Number))).toEqual([ids.acme]);
    const audit = await e2e().db("audit_events").where({ action: "team.installation.linked" });
    expect(audit.map((e) => [Number(e.team_id), Number(e.installation_id), e.actor_type, Number(e.actor_id)])).toEqual([[teamId, ids.acme, "user", BOB.id]]);
  });

  test("POST /api/teams/:teamId/installations links the caller's own user-account installation", async () => {
    expect((await link(ids.bobUser)).status).toBe(201);
  });

  test("POST /api/teams/:teamId/installations twice answers 200 the second time and keeps one row and one audit event", async () => {
    expect((await link(ids.acme)).status).toBe(201);
    const before = await writeCounts(e2e().db);
    const again = await link(ids.acme);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(expect.objectContaining({ installationId: ids.acme }));
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test.each([
    ["an installation on an org the user does not belong to", "initech", "not one your GitHub account can reach"],
    ["another user's user-account installation", "aliceUser", "not one your GitHub account can reach"],
    ["an installation id GitHub does not know", "unknown", "not one your GitHub account can reach"],
    ["an installation the user reaches as a plain org member", "globex", "Only an admin of globex"],
    ["an installation on an org whose admin invitation is still pending", "hooli", "not one your GitHub account can reach"],
  ])("POST /api/teams/:teamId/installations rejects %s with 403 and writes nothing", async (_name, which, message) => {
    const before = await writeCounts(e2e().db);
    const installationId = which === "unknown" ? 987654 : ids[which as keyof typeof ids];
    const hop = await link(installationId);
    expectError(hop, 403, "forbidden");
    expect((hop.body as { error: { message: string } }).error.message).toContain(message);
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("a plain member of the org who reaches the installation sees it as linkable:false and cannot link it", async () => {
    const { world } = e2e().github;
    world.setMembership("acme", ALICE, "member");
    const alice = await e2e().signIn(ALICE);
    const aliceTeam = ((await alice.json("POST", e2e().url("/api/teams"), { name: "Alice's" })).body as { id: number }).id;
    const reach = (await alice.json("GET", e2e().url(`/api/teams/${aliceTeam}/installations/available`))).body as Available;
    expect(reach.installations.map((i) => [i.account.login, i.linkable])).toEqual([
      ["acme", false],
      ["initech", true],
      ["alice", true],
    ]);
    const before = await writeCounts(e2e().db);
    expectError(await alice.json("POST", e2e().url(`/api/teams/${aliceTeam}/installations`), { installationId: ids.acme }), 403, "forbidden");
    expect(await writeCounts(e2e().db)).toEqual(before);
    // The connect page offers no Connect button for it.
    const page = await alice.goto(e2e().url(`/teams/${aliceTeam}/connect`));
    expect(page.text).toContain("Only an organization admin can connect it");
    expect(page.text).not.toContain('aria-label="Connect acme"');
  });

  test("linking proves the caller's power again each time: an admin demoted on GitHub can no longer link", async () => {
    e2e().github.world.setMembership("acme", BOB, "member");
    const before = await writeCounts(e2e().db);
    expectError(await link(ids.acme), 403, "forbidden");
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("DELETE /api/teams/:teamId/installations/:installationId unlinks from that team only: 204, other teams keep theirs", async () => {
    await link(ids.acme, teamId);
    await link(ids.acme, otherTeamId);
    const hop = await call("DELETE", `/api/teams/${teamId}/installations/${ids.acme}`);
    expect(hop.status).toBe(204);
    expect((await call("GET", `/api/teams/${teamId}/installations`)).body).toEqual([]);
    expect((await call("GET", `/api/teams/${otherTeamId}/installations`)).body).toEqual([expect.objectContaining({ installationId: ids.acme })]);
    const unlinked = await e2e().db("audit_events").where({ action: "team.installation.unlinked" });
    expect(unlinked.map((e) => [Number(e.team_id), (typeof e.data === "string" ? JSON.parse(e.data) : e.data)?.reason])).toEqual([[teamId, "user"]]);
  });

  test("DELETE /api/teams/:teamId/installations/:installationId of an installation not linked to the team answers 404", async () => {
    await link(ids.acme, otherTeamId);
    const before = await writeCounts(e2e().db);
    expectError(await call("DELETE", `/api/teams/${teamId}/installations/${ids.acme}`), 404, "not_found");
    expect(await writeCounts(e2e().db)).toEqual(before);
  });

  test("GET …/available lists all 250 installations a user reaches, over three pages of GET /user/installations", async () => {
    const { github } = e2e();
    github.reset();
    for (let i = 1; i <= 250; i++) {
      const org = github.world.addOrg({ id: 100_000 + i, login: `org-${String(i).padStart(3, "0")}` });
      github.world.setMembership(org, BOB, i % 2 === 0 ? "admin" : "member");
      github.world.install(org);
    }
    bob = await e2e().signIn(BOB);
    const { installations } = await available();
    expect(installations).toHaveLength(250);
    expect(new Set(installations.map((i) => i.installationId)).size).toBe(250);
    expect(installations.filter((i) => i.linkable)).toHaveLength(125);
    const pages = github.requests.filter((r) => r.path === "/api/v3/user/installations");
    expect(pages.map((r) => new URLSearchParams(r.search).get("page") ?? "1")).toEqual(["1", "2", "3"]);
  });

  describe("when GitHub is down", () => {
    test.each([
      ["GET /user/installations answers 502", "/api/v3/user/installations", 502, 502],
      ["GET /user/installations answers 503", "/api/v3/user/installations", 503, 503],
      ["a membership check answers 502", "/api/v3/user/memberships/orgs/", 502, 502],
    ])("GET …/available answers github_unavailable when %s, and writes nothing", async (_name, prefix, injected, expected) => {
      const before = await writeCounts(e2e().db);
      e2e().github.failNext(prefix, injected);
      expectError(await call("GET", `/api/teams/${teamId}/installations/available`), expected, "github_unavailable");
      expect(await writeCounts(e2e().db)).toEqual(before);
    });

    test.each([
      ["GET /user/installations answers 502", "/api/v3/user/installations", 502, 502],
      ["GET /user/installations answers 503", "/api/v3/user/installations", 503, 503],
      ["the membership check answers 502", "/api/v3/user/memberships/orgs/acme", 502, 502],
      ["GET /app/installations/:id answers 502", "/api/v3/app/installations/", 502, 502],
    ])("POST /api/teams/:teamId/installations answers github_unavailable when %s, and writes nothing", async (_name, prefix, injected, expected) => {
      const before = await writeCounts(e2e().db);
      e2e().github.failNext(prefix, injected);
      expectError(await link(ids.acme), expected, "github_unavailable");
      expect(await writeCounts(e2e().db)).toEqual(before);
      expect(await countRows(e2e().db, "installations")).toBe(0);
      // Once GitHub answers again, the same request succeeds.
      expect((await link(ids.acme)).status).toBe(201);
    });

    test("GET /teams/:teamId/connect shows an error page with 502 instead of a partial list", async () => {
      e2e().github.failAlways("/api/v3/user/installations", 502);
      const page = await bob.goto(e2e().url(`/teams/${teamId}/connect`));
      expect(page.status).toBe(502);
      expect(page.text).toMatch(/GitHub did not answer/);
    });
  });
});
