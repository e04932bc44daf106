import type { Browser, Hop } from "../../helpers/browser";
import { describeEachE2E } from "../../helpers/e2e";
import { expectError, writeCounts } from "../../helpers/http-expect";
import { BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme" };
const SOMEONE = 5099;

// Ids that are not ids: letters, a sign, a fraction, SQL, zero, exponent and hex forms, padding,
// and numbers no table holds (beyond 2^53, where Number() rounds to another id).
const BAD_IDS = ["abc", "-1", "1.5", "1;DROP TABLE teams", "0", "1e3", "0x1F", " 1", "01", "99999999999999999999", "9007199254740993"];

describeEachE2E("bad input", ({ e2e }) => {
  let bob: Browser;
  let teamId: number;
  let installationId: number;

  beforeEach(async () => {
    const { github, url } = e2e();
    const acme = github.world.addOrg(ACME);
    github.world.setMembership(acme, BOB, "admin");
    installationId = github.world.install(acme).id;
    bob = await e2e().signIn(BOB);
    teamId = ((await bob.json("POST", url("/api/teams"), { name: "Team A" })).body as { id: number }).id;
    expect((await bob.json("POST", url(`/api/teams/${teamId}/installations`), { installationId })).status).toBe(201);
  });

  const call = (method: string, path: string, body?: unknown) => bob.json(method, e2e().url(path), body);

  /** Every /api/teams/:teamId route, with this team id and these other ids. */
  const teamRoutes = (team: string, user = String(SOMEONE), installation = String(installationId)): Array<[string, string, unknown?]> => [
    ["GET", `/api/teams/${team}/members`],
    ["PUT", `/api/teams/${team}/members/${user}`, { role: "member" }],
    ["DELETE", `/api/teams/${team}/members/${user}`],
    ["GET", `/api/teams/${team}/installations`],
    ["GET", `/api/teams/${team}/installations/available`],
    ["POST", `/api/teams/${team}/installations`, { installationId: Number(installation) || installation }],
    ["DELETE", `/api/teams/${team}/installations/${installation}`],
  ];

  async function expectRefused(hop: Hop, status: number, code: string, before: Awaited<ReturnType<typeof writeCounts>>) {
    expectError(hop, status, code);
    expect(await writeCounts(e2e().db)).toEqual(before);
  }

  test.each(BAD_IDS)("every /api/teams/:teamId route answers 400 invalid_input to the team id %j and writes nothing", async (bad) => {
    const before = await writeCounts(e2e().db);
    for (const [method, path, body] of teamRoutes(encodeURIComponent(bad))) {
      const hop = await call(method, path, body);
      expect({ method, path, status: hop.status }).toEqual({ method, path, status: 400 });
      await expectRefused(hop, 400, "invalid_input", before);
    }
  });

  test.each(BAD_IDS)("member and installation routes answer 400 invalid_input to the id %j in the path and write nothing", async (bad) => {
    const before = await writeCounts(e2e().db);
    const routes = teamRoutes(String(teamId), encodeURIComponent(bad), encodeURIComponent(bad)).filter(([, path]) => /members\/|installations\/(?!available)/.test(path));
    expect(routes).toHaveLength(3);
    for (const [method, path, body] of routes) {
      const hop = await call(method, path, body);
      expect({ method, path, status: hop.status }).toEqual({ method, path, status: 400 });
      await expectRefused(hop, 400, "invalid_input", before);
    }
  });

  test.each([
    ["a string of letters", "abc"],
    ["a negative number", -1],
    ["a fraction", 1.5],
    ["SQL", "1;DROP TABLE teams"],
    ["null", null],
    ["a boolean", true],
    ["an array", [70001]],
    ["an object", { id: 70001 }],
    ["a number beyond 2^53", 9007199254740993],
  ])("POST /api/teams/:teamId/installations answers 400 invalid_input to an installationId that is %s", async (_name, value) => {
    const before = await writeCounts(e2e().db);
    await expectRefused(await call("POST", `/api/teams/${teamId}/installations`, { installationId: value }), 400, "invalid_input", before);
  });

  test("a team id that is well formed but unknown answers 404 not_found on every team route and writes nothing", async () => {
    const before = await writeCounts(e2e().db);
    // 2^31 - 1 and 2^31 + 1: inside and beyond the teams.id column's range, both simply not a team.
    for (const unknown of [String(teamId + 1000), "2147483647", "3000000000"]) {
      for (const [method, path, body] of teamRoutes(unknown)) {
        const hop = await call(method, path, body);
        expect({ method, path, status: hop.status }).toEqual({ method, path, status: 404 });
        await expectRefused(hop, 404, "not_found", before);
      }
    }
  });

  test.each<[string, string, string, unknown]>([
    ["POST /api/teams without a name", "POST", "/api/teams", {}],
    ["POST /api/teams with a blank name", "POST", "/api/teams", { name: "   " }],
    ["POST /api/teams with a name of 101 characters", "POST", "/api/teams", { name: "x".repeat(101) }],
    ["POST /api/teams with a name that is not a string", "POST", "/api/teams", { name: 42 }],
    ["POST /api/teams with an unknown field", "POST", "/api/teams", { name: "Team B", admin: true }],
    ["POST /api/teams with a JSON array", "POST", "/api/teams", [{ name: "Team B" }]],
    ["PUT members without a role", "PUT", `/api/teams/:team/members/${SOMEONE}`, {}],
    ["PUT members with an unknown role", "PUT", `/api/teams/:team/members/${SOMEONE}`, { role: "owner" }],
    ["PUT members with an unknown field", "PUT", `/api/teams/:team/members/${SOMEONE}`, { role: "member", teamId: 1 }],
    ["POST installations without an installationId", "POST", "/api/teams/:team/installations", {}],
    ["POST installations with an unknown field", "POST", "/api/teams/:team/installations", { installationId: 70001, teamId: 2 }],
  ])("%s answers 400 invalid_input with details and writes nothing", async (_name, method, path, body) => {
    const before = await writeCounts(e2e().db);
    const hop = await call(method, path.replace(":team", String(teamId)), body);
    await expectRefused(hop, 400, "invalid_input", before);
    expect((hop.body as { error: { details?: unknown[] } }).error.details).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.any(String) })]));
  });

  test.each([
    ["malformed JSON", "{\"name\": "],
    ["a JSON string", "\"Team B\""],
    ["no body at all", ""],
  ])("POST /api/teams with %s answers 400 invalid_input and writes nothing", async (_name, raw) => {
    const before = await writeCounts(e2e().db);
    const hop = await bob.request(e2e().url("/api/teams"), { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    await expectRefused(hop, 400, "invalid_input", before);
  });

  test.each<[string, string]>([
    ["POST /api/teams", "/api/teams"],
    ["POST /api/teams/:teamId/installations", "/api/teams/:team/installations"],
  ])("%s with a JSON body over 100kb answers 413 payload_too_large and writes nothing", async (_name, path) => {
    const before = await writeCounts(e2e().db);
    const body = JSON.stringify({ name: "x".repeat(101 * 1024) });
    const hop = await bob.request(e2e().url(path.replace(":team", String(teamId))), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await expectRefused(hop, 413, "payload_too_large", before);
  });

  test("PUT /api/teams/:teamId/members/:githubUserId with a JSON body over 100kb answers 413 payload_too_large", async () => {
    const before = await writeCounts(e2e().db);
    const hop = await bob.request(e2e().url(`/api/teams/${teamId}/members/${SOMEONE}`), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "member", padding: "y".repeat(120 * 1024) }),
    });
    await expectRefused(hop, 413, "payload_too_large", before);
  });

  test("a body just under 100kb is read and judged on its fields (400, not 413)", async () => {
    const before = await writeCounts(e2e().db);
    const hop = await call("POST", "/api/teams", { name: "x".repeat(99 * 1024) });
    await expectRefused(hop, 400, "invalid_input", before);
  });
});
