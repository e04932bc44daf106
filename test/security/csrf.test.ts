import { addTeamMember } from "../../src/repositories/teams";
import { EVENT_SHAPES, jsonBody } from "../fixtures/lambda-events";
import { Hop, request } from "../helpers/browser";
import { TEST_BASE_URL } from "../helpers/config";
import { createTestDatabase, TestDatabase } from "../helpers/databases";
import { NOW, seedTeams } from "../helpers/factories";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { signedInMember } from "../helpers/team-access";
import { startTestLambda, TestLambda } from "../helpers/test-lambda";
import { describeEachServer } from "../helpers/test-server";
import { ALICE, BOB } from "../helpers/users";

/**
 * Cross-site request forgery against everything the session cookie authenticates: logout (which
 * can also delete the GitHub grant), the API's writes and the pages' forms. A browser names where
 * a request comes from (Sec-Fetch-Site, Origin); anything but our own origin is refused with 403
 * before a handler runs, and nothing changes. API keys carry no ambient credential: exempt.
 */
const REFUSED = { error: { code: "forbidden", message: "cross-site request refused" } };
const EVIL = "https://evil.example";

/** Where the request says it comes from, as browsers put it. */
const FROM = {
  "a foreign Origin": { origin: EVIL },
  "a sibling subdomain (Sec-Fetch-Site: same-site)": { "sec-fetch-site": "same-site", origin: "https://app.localhost:3000" },
  "another site (Sec-Fetch-Site: cross-site)": { "sec-fetch-site": "cross-site", origin: EVIL },
  "Origin: null (a sandboxed frame)": { origin: "null" },
} as const;
const CROSS_SITE = Object.entries(FROM);

describeEachServer("cross-site requests with the session cookie", ({ server, db }) => {
  const url = (path: string) => `${server().url}${path}`;
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  const sessionStillValid = (cookie: string) => request(url("/api/me"), { cookie }).then((hop) => hop.status);
  const expectRefused = (hop: Hop) => {
    expect({ status: hop.status, body: hop.body, setCookies: hop.setCookies }).toEqual({ status: 403, body: REFUSED, setCookies: [] });
  };

  test.each(CROSS_SITE)("POST /auth/logout?revoke=true from %s answers 403, and the session and the GitHub grant stay", async (_from, headers) => {
    const alice = await signedInMember(server().deps, ALICE, null);
    const hop = await request(url("/auth/logout?revoke=true"), { method: "POST", cookie: alice.cookie, headers });
    expectRefused(hop);
    expect(await sessionStillValid(alice.cookie)).toBe(200);
    expect(await db()("user_tokens").where({ github_user_id: ALICE.id }).count({ n: "*" }).then((r) => Number(r[0].n))).toBe(1);
    expect(github.calls).toEqual([]);
  });

  test("POST /auth/logout with neither Origin nor Sec-Fetch-Site answers 403 and the session stays", async () => {
    const alice = await signedInMember(server().deps, ALICE, null);
    // Plain fetch: the browser helper would name our own origin, as browsers do.
    const res = await fetch(url("/auth/logout"), { method: "POST", headers: { cookie: alice.cookie }, redirect: "manual" });
    expect({ status: res.status, body: await res.json(), setCookies: res.headers.getSetCookie() }).toEqual({ status: 403, body: REFUSED, setCookies: [] });
    expect(await sessionStillValid(alice.cookie)).toBe(200);
  });

  test.each([
    ["Origin equal to BASE_URL's origin", { origin: TEST_BASE_URL }],
    ["Sec-Fetch-Site: same-origin", { "sec-fetch-site": "same-origin", origin: TEST_BASE_URL }],
  ])("POST /auth/logout with %s ends the session (204)", async (_name, headers) => {
    const alice = await signedInMember(server().deps, ALICE, null);
    const hop = await request(url("/auth/logout"), { method: "POST", cookie: alice.cookie, headers });
    expect(hop.status).toBe(204);
    expect(hop.setCookies).toEqual([expect.stringMatching(/^octoplex_session=; /)]);
    expect(await sessionStillValid(alice.cookie)).toBe(401);
  });

  test("PUT /api/teams/:teamId/members/:githubUserId with a foreign Origin answers 403 and changes no role", async () => {
    const [team] = await seedTeams(db(), 1);
    const alice = await signedInMember(server().deps, ALICE, team.id, "admin");
    await addTeamMember(db(), team.id, BOB.id, "member", NOW);
    const hop = await request(url(`/api/teams/${team.id}/members/${BOB.id}`), {
      method: "PUT",
      cookie: alice.cookie,
      headers: { origin: EVIL, "content-type": "application/json" },
      body: JSON.stringify({ role: "admin" }),
    });
    expectRefused(hop);
    expect(await db()("team_members").where({ team_id: team.id, github_user_id: BOB.id }).pluck("role")).toEqual(["member"]);
  });

  test("PUT /api/teams/:teamId/members/:githubUserId from the app's own origin changes the role", async () => {
    const [team] = await seedTeams(db(), 1);
    const alice = await signedInMember(server().deps, ALICE, team.id, "admin");
    await addTeamMember(db(), team.id, BOB.id, "member", NOW);
    const hop = await request(url(`/api/teams/${team.id}/members/${BOB.id}`), {
      method: "PUT",
      cookie: alice.cookie,
      headers: { origin: TEST_BASE_URL, "content-type": "application/json" },
      body: JSON.stringify({ role: "admin" }),
    });
    expect(hop.status).toBe(200);
    expect(await db()("team_members").where({ team_id: team.id, github_user_id: BOB.id }).pluck("role")).toEqual(["admin"]);
  });

  test("PUT /api/teams/:teamId/members/:githubUserId with a Bearer API key is unaffected by a foreign Origin", async () => {
    const [team] = await seedTeams(db(), 1);
    await addTeamMember(db(), team.id, BOB.id, "member", NOW);
    const { key } = await server().deps.services.apiKeys.create("platform");
    const hop = await request(url(`/api/teams/${team.id}/members/${BOB.id}`), {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, origin: EVIL, "content-type": "application/json" },
      body: JSON.stringify({ role: "admin" }),
    });
    expect(hop.status).toBe(200);
    expect(await db()("team_members").where({ team_id: team.id, github_user_id: BOB.id }).pluck("role")).toEqual(["admin"]);
  });

  test("POST /api/teams with a foreign Origin answers 403 and creates no team", async () => {
    const alice = await signedInMember(server().deps, ALICE, null);
    const hop = await request(url("/api/teams"), {
      method: "POST",
      cookie: alice.cookie,
      headers: { "sec-fetch-site": "cross-site", "content-type": "application/json" },
      body: JSON.stringify({ name: "Forged" }),
    });
    expectRefused(hop);
    expect(await db()("teams").count({ n: "*" }).then((r) => Number(r[0].n))).toBe(0);
  });

  test("POST /teams (the home page's form) with a valid CSRF token but a foreign Origin answers 403 and creates no team", async () => {
    const alice = await signedInMember(server().deps, ALICE, null);
    const sessionId = alice.cookie.split("=")[1];
    const csrf = server().deps.services.auth!.sessions.csrfToken(sessionId);
    const hop = await request(url("/teams"), {
      method: "POST",
      cookie: alice.cookie,
      headers: { origin: EVIL, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, name: "Forged" }).toString(),
    });
    expectRefused(hop);
    expect(await db()("teams").count({ n: "*" }).then((r) => Number(r[0].n))).toBe(0);
  });

  test("POST /setup/link (the setup page's form) with a foreign Origin answers 403 before reading the form", async () => {
    const alice = await signedInMember(server().deps, ALICE, null);
    const hop = await request(url("/setup/link"), {
      method: "POST",
      cookie: alice.cookie,
      headers: { "sec-fetch-site": "same-site", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: "x", installation_id: "1", new_team_name: "Forged" }).toString(),
    });
    expectRefused(hop);
    expect(await db()("teams").count({ n: "*" }).then((r) => Number(r[0].n))).toBe(0);
  });
});

describe("cross-site requests through the Lambda handler", () => {
  let database: TestDatabase;
  let lambda: TestLambda;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    lambda = await startTestLambda(database);
  });
  afterAll(async () => {
    await lambda?.close();
    await database?.drop();
  });

  test.each(EVENT_SHAPES)("%s: POST /auth/logout with a foreign Origin answers 403 and the session stays; from BASE_URL's origin it ends", async (_shape, shape) => {
    const alice = await signedInMember(lambda.deps, ALICE, null);
    const cookies = [alice.cookie];
    const logout = (origin: string) => lambda.invoke(shape({ method: "POST", path: "/auth/logout", headers: { origin }, cookies }));
    const me = () => lambda.invoke(shape({ method: "GET", path: "/api/me", cookies })).then((r) => r.statusCode);

    const refused = await logout(EVIL);
    expect({ status: refused.statusCode, body: jsonBody(refused) }).toEqual({ status: 403, body: REFUSED });
    expect(await me()).toBe(200);

    expect((await logout(TEST_BASE_URL)).statusCode).toBe(204);
    expect(await me()).toBe(401);
  });
});
