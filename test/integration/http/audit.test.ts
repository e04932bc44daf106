import { appendAuditEvents } from "../../../src/repositories/audit-events";
import { Browser, request } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { auditEvent, NOW } from "../../helpers/factories";
import { expectError } from "../../helpers/http-expect";
import { ALICE, BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme" };
const CAROL = { id: 5003, login: "carol" };

interface AuditEventJson {
  id: number;
  teamId: number;
  installationId: number | null;
  actor: { type: string; id: number | null };
  action: string;
  data: Record<string, unknown>;
  createdAt: string;
}
interface AuditPage {
  events: AuditEventJson[];
  nextCursor: string | null;
}

describeEachE2E("team audit trail", ({ e2e }) => {
  let bob: Browser;
  let alice: Browser;
  let teamId: number;

  const audit = async (browser: Browser, query = "", team = teamId) => browser.json("GET", e2e().url(`/api/teams/${team}/audit${query}`));
  const page = async (browser: Browser, query = "", team = teamId) => {
    const hop = await audit(browser, query, team);
    expect(hop.status).toBe(200);
    return hop.body as AuditPage;
  };

  beforeEach(async () => {
    bob = await e2e().signIn(BOB);
    alice = await e2e().signIn(ALICE);
    teamId = ((await bob.json("POST", e2e().url("/api/teams"), { name: "Team B" })).body as { id: number }).id;
  });

  test("GET /api/teams/:teamId/audit shows a member the team's events newest first: links, unlink with reason, member changes, suspension", async () => {
    const { github, url } = e2e();
    const acme = github.world.addOrg(ACME);
    github.world.setMembership(acme, BOB, "admin");
    const installationId = github.world.install(acme).id;
    const put = (user: number, role: string) => bob.json("PUT", url(`/api/teams/${teamId}/members/${user}`), { role });

    expect((await bob.json("POST", url(`/api/teams/${teamId}/installations`), { installationId })).status).toBe(201);
    expect((await put(ALICE.id, "member")).status).toBe(200);
    expect((await put(CAROL.id, "member")).status).toBe(200);
    expect((await put(CAROL.id, "admin")).status).toBe(200);
    expect((await bob.json("DELETE", url(`/api/teams/${teamId}/members/${CAROL.id}`))).status).toBe(204);
    github.world.setSuspended(installationId, true);
    expect((await e2e().sendInstallationEvent("suspend", installationId)).status).toBe(200);
    expect((await bob.json("DELETE", url(`/api/teams/${teamId}/installations/${installationId}`))).status).toBe(204);

    // Alice is a plain member: she may read it.
    const { events, nextCursor } = await page(alice);

    const bobActs = { type: "user", id: BOB.id };
    expect(events.map((e) => [e.action, e.actor, e.installationId, e.data])).toEqual([
      ["team.installation.unlinked", bobActs, installationId, { reason: "user" }],
      ["installation.suspended", { type: "github", id: null }, installationId, { suspendedBy: expect.any(String) }],
      ["team.member.removed", bobActs, null, { githubUserId: CAROL.id }],
      ["team.member.updated", bobActs, null, { githubUserId: CAROL.id, role: "admin" }],
      ["team.member.added", bobActs, null, { githubUserId: CAROL.id, role: "member" }],
      ["team.member.added", bobActs, null, { githubUserId: ALICE.id, role: "member" }],
      ["team.installation.linked", bobActs, installationId, { repositories: "all" }],
      ["team.created", bobActs, null, { name: "Team B" }],
    ]);
    expect(nextCursor).toBeNull();
    expect(events.every((e) => e.teamId === teamId && typeof e.id === "number" && !Number.isNaN(Date.parse(e.createdAt)))).toBe(true);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => b - a));

    // Another team's history is its own.
    const other = ((await alice.json("POST", url("/api/teams"), { name: "Alice's" })).body as { id: number }).id;
    expect((await page(alice, "", other)).events.map((e) => e.action)).toEqual(["team.created"]);
  });

  test("GET …/audit pages with nextCursor, newest first, stable while new events arrive between pages: no duplicates, no gaps", async () => {
    const db = e2e().db;
    const seed = (n: number, team = teamId) =>
      appendAuditEvents(db, Array.from({ length: n }, (_, i) => auditEvent({ teamId: team, action: "test.step", data: { n: i } })), NOW);
    await seed(12);
    const ids = await db("audit_events").where({ team_id: teamId }).orderBy("id", "desc").pluck("id").then((r) => r.map(Number));
    expect(ids).toHaveLength(13); // with team.created

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const result: AuditPage = await page(bob, `?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      seen.push(...result.events.map((e) => e.id));
      cursor = result.nextCursor;
      pages++;
      // Newer events (this team's and another's) keep arriving while Bob pages back.
      await seed(2);
      await seed(2, teamId + 1000);
    } while (cursor);

    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    // The first page now starts with the newest.
    const fresh = await page(bob, "?limit=5");
    expect(fresh.events[0].id).toBeGreaterThan(ids[0]);
    expect(fresh.nextCursor).not.toBeNull();
  });

  test("GET …/audit: a last page exactly `limit` long carries nextCursor null, not a cursor to an empty page", async () => {
    const all = await page(bob);
    expect(all.events).toHaveLength(1);
    const first = await page(bob, "?limit=1");
    expect(first.events.map((e) => e.action)).toEqual(["team.created"]);
    expect(first.nextCursor).toBeNull();
  });

  test("GET …/audit: a platform's API key reads any team's trail", async () => {
    const { key } = await e2e().server.deps.services.apiKeys.create("platform");
    const hop = await request(e2e().url(`/api/teams/${teamId}/audit`), { headers: { authorization: `Bearer ${key}` } });
    expect(hop.status).toBe(200);
    expect((hop.body as AuditPage).events.map((e) => e.action)).toEqual(["team.created"]);
  });

  test("GET …/audit rejects a caller without access with 404, like a team that does not exist", async () => {
    expectError(await audit(alice), 404, "not_found");
    expectError(await audit(alice, "", teamId + 1000), 404, "not_found");
    expectError(await audit(bob, "", 2 ** 40), 404, "not_found");
    const anonymous = await request(e2e().url(`/api/teams/${teamId}/audit`));
    expectError(anonymous, 401, "unauthenticated");
  });

  test.each([
    ["a cursor that is not one the API returned", "?cursor=not-a-cursor"],
    ["a cursor naming no id", `?cursor=${Buffer.from("audit:abc").toString("base64url")}`],
    ["a negative id in the cursor", `?cursor=${Buffer.from("audit:-5").toString("base64url")}`],
    ["an over-long cursor", `?cursor=${"a".repeat(101)}`],
    ["two cursors", "?cursor=a&cursor=b"],
    ["limit 0", "?limit=0"],
    ["limit 201", "?limit=201"],
    ["a limit that is not a number", "?limit=ten"],
    ["a fractional limit", "?limit=1.5"],
    ["an unknown parameter", "?order=asc"],
  ])("GET …/audit answers 400 invalid_input to %s", async (_what, query) => {
    expectError(await audit(bob, query), 400, "invalid_input");
  });
});
