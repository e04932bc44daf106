import { createGithubGit, FakeGit } from "../../fakes/github-git";
import type { Browser } from "../../helpers/browser";
import { describeEachE2E, E2E, SESSION_COOKIE } from "../../helpers/e2e";
import { CheckedResponse, createOpenApiValidator, fetchChecked, loadOpenApiDocument, OpenApiDocument, OpenApiValidator } from "../../helpers/openapi-validator";
import { sign } from "../../helpers/test-server";
import { ALICE, BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme" }; // Bob is an admin
const GLOBEX = { id: 9002, login: "globex" }; // Bob is a plain member

// The server keeps installation tokens in memory across tests while the fake's world starts over:
// every installation gets an id of its own.
let nextInstallationId = 74001;

/** What the sample below must have met, each answer validated against openapi.yaml. */
const REQUIRED_SAMPLE = [
  "GET /healthz 200",
  "GET /openapi.json 200",
  "POST /api/github/webhooks 200",
  "POST /api/github/webhooks 401",
  "GET /auth/login 302",
  "GET /auth/login 429",
  "POST /auth/logout 204",
  "GET /api/me 200",
  "GET /api/me 400",
  "GET /api/me 401",
  "GET /api/me 429",
  "POST /api/teams 201",
  "POST /api/teams 400",
  "POST /api/teams 413",
  "GET /api/teams 200",
  "GET /api/teams/{teamId}/members 200",
  "GET /api/teams/{teamId}/members 400",
  "GET /api/teams/{teamId}/members 404",
  "PUT /api/teams/{teamId}/members/{githubUserId} 200",
  "PUT /api/teams/{teamId}/members/{githubUserId} 403",
  "PUT /api/teams/{teamId}/members/{githubUserId} 409",
  "DELETE /api/teams/{teamId}/members/{githubUserId} 204",
  "DELETE /api/teams/{teamId}/members/{githubUserId} 404",
  "GET /api/teams/{teamId}/installations 200",
  "GET /api/teams/{teamId}/installations/available 200",
  "GET /api/teams/{teamId}/installations/available 400",
  "GET /api/teams/{teamId}/installations/available 502",
  "POST /api/teams/{teamId}/installations 201",
  "POST /api/teams/{teamId}/installations 200",
  "POST /api/teams/{teamId}/installations 403",
  "PATCH /api/teams/{teamId}/installations/{installationId} 200",
  "PATCH /api/teams/{teamId}/installations/{installationId} 400",
  "PATCH /api/teams/{teamId}/installations/{installationId} 404",
  "DELETE /api/teams/{teamId}/installations/{installationId} 204",
  "DELETE /api/teams/{teamId}/installations/{installationId} 404",
  "GET /api/teams/{teamId}/audit 200",
  "GET /api/teams/{teamId}/audit 400",
  "GET /api/teams/{teamId}/repositories 200",
  "GET /api/teams/{teamId}/repositories 400",
  "GET /api/teams/{teamId}/repositories 404",
  "POST /api/teams/{teamId}/repositories 201",
  "POST /api/teams/{teamId}/repositories 409",
  "POST /api/teams/{teamId}/repositories 403",
  "POST /api/teams/{teamId}/repositories 400",
  "POST /api/teams/{teamId}/repositories/{owner}/{repo}/commits 201",
  "POST /api/teams/{teamId}/repositories/{owner}/{repo}/commits 404",
  "POST /api/teams/{teamId}/tokens 201",
  "POST /api/teams/{teamId}/tokens 400",
  "POST /api/teams/{teamId}/tokens 403",
  "GET / 200",
  "GET /teams/{teamId}/connect 200",
  "GET /teams/{teamId}/connect 302",
];

type Call = (method: string, path: string, options?: { body?: unknown; raw?: string; as?: Browser | null; headers?: Record<string, string> }) => Promise<CheckedResponse>;

function caller(e2e: () => E2E, openapi: OpenApiValidator): Call {
  return (method, path, options = {}) => {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    const session = options.as?.cookies(e2e().baseUrl)[SESSION_COOKIE];
    if (session) headers.cookie = `${SESSION_COOKIE}=${session}`;
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetchChecked(openapi, e2e().url(path), { method, headers, body });
  };
}

const errorOf = (res: CheckedResponse) => (res.body as { error: { code: string; details?: unknown[] } }).error;

// Real answers of the running server (SQLite, and Postgres when it is there), each validated by
// fetchChecked against what openapi.yaml declares for its path, method and status.
describeEachE2E("answers match openapi.yaml", ({ e2e }) => {
  const openapi = createOpenApiValidator();
  const call = caller(e2e, openapi);
  let git: FakeGit;

  beforeAll(() => {
    git = createGithubGit(e2e().github);
    e2e().github.addRoutes(git.routes);
  });
  beforeEach(() => git.reset());

  /** Bob signed in, admin of a new team; acme (Bob an admin) and globex (Bob a member) have the app. */
  async function arrange() {
    const { github } = e2e();
    const acme = github.world.addOrg(ACME);
    const globex = github.world.addOrg(GLOBEX);
    github.world.setMembership(acme, BOB, "admin");
    github.world.setMembership(globex, BOB, "member");
    const acmeId = github.world.install(acme, { id: nextInstallationId++ }).id;
    const globexId = github.world.install(globex, { id: nextInstallationId++ }).id;
    const bob = await e2e().signIn(BOB);
    const created = await call("POST", "/api/teams", { as: bob, body: { name: "Widgets team" } });
    expect(created.status).toBe(201);
    return { bob, teamId: (created.body as { id: number }).id, acmeId, globexId };
  }

  test("GET /healthz and GET /openapi.json", async () => {
    expect((await call("GET", "/healthz")).body).toEqual({ status: "ok", database: "ok" });
    const spec = await call("GET", "/openapi.json");
    expect(spec.status).toBe(200);
    expect(spec.body).toEqual(loadOpenApiDocument());
  });

  test("POST /api/github/webhooks: a signed delivery 200, an unsigned one 401", async () => {
    const installation = e2e().github.world.install(e2e().github.world.addOrg(ACME), { id: nextInstallationId++ });
    const body = JSON.stringify(e2e().github.installationEvent("created", installation));
    const headers = { "x-github-event": "installation", "x-github-delivery": `openapi-${installation.id}` };
    const signed = await call("POST", "/api/github/webhooks", { raw: body, headers: { ...headers, "x-hub-signature-256": sign(body) } });
    expect(signed.status).toBe(200);
    const unsigned = await call("POST", "/api/github/webhooks", { raw: body, headers: { ...headers, "x-github-delivery": "openapi-unsigned" } });
    expect(unsigned.status).toBe(401);
  });

  test("sign-in and pages: GET /auth/login 302, GET / 200, GET /teams/:teamId/connect 200 and 302, POST /auth/logout 204", async () => {
    const login = await call("GET", "/auth/login?return_to=%2F");
    expect(login.status).toBe(302);
    expect(login.headers.get("location")).toContain("/login/oauth/authorize");
    const { bob, teamId } = await arrange();
    const home = await call("GET", "/", { as: bob, headers: { accept: "text/html" } });
    expect(home.text).toContain("<");
    expect((await call("GET", `/teams/${teamId}/connect`, { as: bob, headers: { accept: "text/html" } })).status).toBe(200);
    const anonymous = await call("GET", `/teams/${teamId}/connect`, { headers: { accept: "text/html" } });
    expect(anonymous.status).toBe(302);
    expect((await call("POST", "/auth/logout", { as: bob })).status).toBe(204);
    expect((await call("GET", "/api/me", { as: bob })).status).toBe(401);
  });

  test("GET /api/me, POST and GET /api/teams, the members routes: successes, 403, 404, 409", async () => {
    const { bob, teamId } = await arrange();
    const me = await call("GET", "/api/me", { as: bob });
    expect(me.body).toEqual({
      user: expect.objectContaining({ id: BOB.id, login: BOB.login }),
      authorization: "active",
      teams: [{ id: teamId, name: "Widgets team", role: "admin" }],
    });
    expect((await call("GET", "/api/teams", { as: bob })).body).toEqual([{ id: teamId, name: "Widgets team", role: "admin" }]);

    const members = `/api/teams/${teamId}/members`;
    expect((await call("PUT", `${members}/${ALICE.id}`, { as: bob, body: { role: "member" } })).body).toEqual({ githubUserId: ALICE.id, role: "member" });
    // Alice has not signed in yet: her login is null.
    expect((await call("GET", members, { as: bob })).body).toEqual([
      { githubUserId: ALICE.id, login: null, role: "member", addedAt: expect.any(String) },
      { githubUserId: BOB.id, login: BOB.login, role: "admin", addedAt: expect.any(String) },
    ]);
    const alice = await e2e().signIn(ALICE);
    expect(errorOf(await call("PUT", `${members}/${ALICE.id}`, { as: alice, body: { role: "admin" } })).code).toBe("forbidden");
    expect(errorOf(await call("PUT", `${members}/${BOB.id}`, { as: bob, body: { role: "member" } })).code).toBe("conflict");
    expect((await call("DELETE", `${members}/${ALICE.id}`, { as: bob })).status).toBe(204);
    expect(errorOf(await call("DELETE", `${members}/${ALICE.id}`, { as: bob })).code).toBe("not_found");
    // Alice is no member now: the team answers 404, as one that does not exist.
    expect(errorOf(await call("GET", members, { as: alice })).code).toBe("not_found");
  });

  test("installations: available, link 201 then 200, a plain member's org 403, list, unlink 204 then 404, the audit trail", async () => {
    const { bob, teamId, acmeId, globexId } = await arrange();
    const installations = `/api/teams/${teamId}/installations`;

    const available = await call("GET", `${installations}/available`, { as: bob });
    expect((available.body as { installations: unknown[] }).installations).toHaveLength(2);
    expect((await call("POST", installations, { as: bob, body: { installationId: acmeId } })).status).toBe(201);
    expect((await call("POST", installations, { as: bob, body: { installationId: acmeId } })).status).toBe(200);
    expect(errorOf(await call("POST", installations, { as: bob, body: { installationId: globexId } })).code).toBe("forbidden");
    expect((await call("GET", installations, { as: bob })).body).toEqual([expect.objectContaining({ installationId: acmeId, linkedBy: BOB.id })]);
    expect((await call("GET", `${installations}/available`, { as: bob })).status).toBe(200);
    expect((await call("DELETE", `${installations}/${acmeId}`, { as: bob })).status).toBe(204);
    expect(errorOf(await call("DELETE", `${installations}/${acmeId}`, { as: bob })).code).toBe("not_found");

    const audit = await call("GET", `/api/teams/${teamId}/audit?limit=2`, { as: bob });
    const page = audit.body as { events: Array<{ action: string }>; nextCursor: string | null };
    expect(page.events.map((e) => e.action)).toEqual(["team.installation.unlinked", "team.installation.linked"]);
    expect(page.nextCursor).toEqual(expect.any(String));
    const last = await call("GET", `/api/teams/${teamId}/audit?cursor=${page.nextCursor}`, { as: bob });
    expect(last.body).toEqual({ events: [expect.objectContaining({ action: "team.created", installationId: null })], nextCursor: null });

    e2e().github.failNext("/api/v3/user/installations", 502);
    expect(errorOf(await call("GET", `${installations}/available`, { as: bob })).code).toBe("github_unavailable");
  });

  test("PATCH /api/teams/:teamId/installations/:installationId: the link with its scope 200, a malformed scope 400, not linked 404", async () => {
    const { bob, teamId, acmeId, globexId } = await arrange();
    const installations = `/api/teams/${teamId}/installations`;
    expect((await call("POST", installations, { as: bob, body: { installationId: acmeId } })).body).toEqual(expect.objectContaining({ repositories: "all" }));
    expect((await call("PATCH", `${installations}/${acmeId}`, { as: bob, body: { repositories: [] } })).body).toEqual(expect.objectContaining({ repositories: [] }));
    expect(errorOf(await call("PATCH", `${installations}/${acmeId}`, { as: bob, body: { repositories: "some" } })).code).toBe("invalid_input");
    expect(errorOf(await call("PATCH", `${installations}/${globexId}`, { as: bob, body: { repositories: [] } })).code).toBe("not_found");
  });

  test("POST /api/teams/:teamId/repositories 201 then 409, POST …/commits 201, a repository outside the team's installations 404", async () => {
    const { bob, teamId, acmeId } = await arrange();
    expect((await call("POST", `/api/teams/${teamId}/installations`, { as: bob, body: { installationId: acmeId } })).status).toBe(201);
    const repositories = `/api/teams/${teamId}/repositories`;

    const created = await call("POST", repositories, { as: bob, body: { installationId: acmeId, name: "widgets", autoInit: true } });
    expect(created.body).toEqual({ fullName: "acme/widgets", htmlUrl: `${e2e().github.url}/acme/widgets`, defaultBranch: "main" });
    expect(errorOf(await call("POST", repositories, { as: bob, body: { installationId: acmeId, name: "widgets" } })).code).toBe("conflict");

    const files = [
      { path: "docs/guide.md", content: "# Guide\n" },
      { path: "assets/logo.bin", content: Buffer.from([0, 1, 254, 255]).toString("base64"), encoding: "base64" },
    ];
    // Created through Octoplex on an installation that reaches every repository: stored with GitHub's answer.
    const listed = await call("GET", `${repositories}?limit=1&q=WIDG`, { as: bob });
    expect(listed.body).toEqual({ repositories: [expect.objectContaining({ fullName: "acme/widgets", installationId: acmeId })], nextCursor: null });
    expect(errorOf(await call("GET", `${repositories}?cursor=not-a-cursor`, { as: bob })).code).toBe("invalid_input");
    expect(errorOf(await call("GET", `/api/teams/${teamId + 1000}/repositories`, { as: bob })).code).toBe("not_found");

    const commit = await call("POST", `${repositories}/acme/widgets/commits`, { as: bob, body: { branch: "feature/docs", message: "Add the guide", files } });
    expect(commit.status).toBe(201);
    expect(errorOf(await call("POST", `${repositories}/globex/widgets/commits`, { as: bob, body: { branch: "x", message: "m", files } })).code).toBe("not_found");
  });

  test("POST /api/teams/:teamId/repositories from a template: 201, a private one outside the scope 403 with details.outside, not a template 400", async () => {
    const { bob, teamId, acmeId } = await arrange();
    const acme = e2e().github.world.org(ACME.login)!;
    git.addRepository(acme, "starter", { isTemplate: true, branches: { main: { "README.md": "# Starter\n" } } });
    git.addRepository(acme, "plain", { branches: { main: { "a.txt": "a\n" } } });
    git.addRepository(e2e().github.world.org(GLOBEX.login)!, "secret", { isTemplate: true, branches: { main: { "s.txt": "s\n" } } });
    expect((await call("POST", `/api/teams/${teamId}/installations`, { as: bob, body: { installationId: acmeId } })).status).toBe(201);
    const repositories = `/api/teams/${teamId}/repositories`;

    const created = await call("POST", repositories, { as: bob, body: { installationId: acmeId, name: "widgets", template: "acme/starter", includeAllBranches: true } });
    expect(created.status).toBe(201);
    const outside = await call("POST", repositories, { as: bob, body: { installationId: acmeId, name: "w2", template: "globex/secret" } });
    expect(outside.status).toBe(403);
    expect(errorOf(outside)).toEqual(expect.objectContaining({ details: { outside: { repositories: ["globex/secret"] } } }));
    const plain = await call("POST", repositories, { as: bob, body: { installationId: acmeId, name: "w3", template: "acme/plain" } });
    expect(errorOf(plain)).toEqual(expect.objectContaining({ code: "invalid_input", details: [expect.objectContaining({ path: "template" })] }));
  });

  test("POST /api/teams/:teamId/tokens 201 (no-store), permissions beyond the installation's 403 with details.outside, no installationId 400", async () => {
    const { bob, teamId, acmeId } = await arrange();
    expect((await call("POST", `/api/teams/${teamId}/installations`, { as: bob, body: { installationId: acmeId } })).status).toBe(201);
    const tokens = `/api/teams/${teamId}/tokens`;
    const issued = await call("POST", tokens, { as: bob, body: { installationId: acmeId, permissions: { contents: "read" } } });
    expect(issued.status).toBe(201);
    expect(issued.headers.get("cache-control")).toBe("no-store");
    const beyond = await call("POST", tokens, { as: bob, body: { installationId: acmeId, permissions: { issues: "write" } } });
    expect(errorOf(beyond)).toEqual(expect.objectContaining({ code: "forbidden", details: { outside: { permissions: { issues: "write" } } } }));
    expect(errorOf(await call("POST", tokens, { as: bob, body: {} })).code).toBe("invalid_input");
  });

  test("error answers: invalid_input with details, user_required, unauthenticated, reauthorization_required, not_found, payload_too_large", async () => {
    const { bob, teamId } = await arrange();
    const { key } = await e2e().server.deps.services.apiKeys.create("openapi-test");
    const platform = { authorization: `Bearer ${key}` };

    const noName = await call("POST", "/api/teams", { as: bob, body: {} });
    expect(errorOf(noName)).toEqual(expect.objectContaining({ code: "invalid_input", details: [expect.objectContaining({ path: "name" })] }));
    expect(errorOf(await call("POST", "/api/teams", { as: bob, body: { name: "B", admin: true } })).code).toBe("invalid_input");
    expect(errorOf(await call("POST", "/api/teams", { as: bob, raw: '{"name": ' })).code).toBe("invalid_input");
    expect(errorOf(await call("GET", "/api/teams/abc/members", { as: bob })).code).toBe("invalid_input");
    expect(errorOf(await call("GET", `/api/teams/${teamId}/audit?limit=0`, { as: bob })).code).toBe("invalid_input");
    expect(errorOf(await call("GET", `/api/teams/${teamId}/audit?cursor=not-a-cursor`, { as: bob })).code).toBe("invalid_input");
    expect(errorOf(await call("GET", "/api/me", { headers: { ...platform, "x-octoplex-user": "-1" } })).code).toBe("invalid_input");
    expect(errorOf(await call("GET", "/api/me", { headers: platform })).code).toBe("user_required");
    expect(errorOf(await call("GET", `/api/teams/${teamId}/installations/available`, { headers: platform })).code).toBe("user_required");

    expect(errorOf(await call("GET", "/api/me")).code).toBe("unauthenticated");
    expect(errorOf(await call("GET", "/api/teams", { headers: { authorization: "Bearer opx_not_a_key" } })).code).toBe("unauthenticated");
    const stranger = await call("GET", "/api/me", { headers: { ...platform, "x-octoplex-user": "777777" } });
    expect(errorOf(stranger).code).toBe("reauthorization_required");

    expect(errorOf(await call("GET", `/api/teams/${teamId + 1000}/members`, { as: bob })).code).toBe("not_found");
    expect(errorOf(await call("POST", "/api/teams", { as: bob, body: { name: "x".repeat(101 * 1024) } })).code).toBe("payload_too_large");

    // A platform's key, acting for nobody, sees every team, as no member of it (role null).
    expect((await call("GET", "/api/teams", { headers: platform })).body).toEqual([{ id: teamId, name: "Widgets team", role: null }]);
  });

  test("rate limits: GET /auth/login 429 past 30 starts a minute, GET /api/me 429 past 20 wrong keys, each with Retry-After", async () => {
    // An address of its own (X-Forwarded-For from loopback): the other tests' requests count elsewhere.
    const from = { "x-forwarded-for": "203.0.113.250" };
    // The server's clock is real: a minute may end midway, so send until refused (two windows' worth at most).
    async function untilRefused(send: () => Promise<CheckedResponse>, limit: number, allowed: number): Promise<CheckedResponse> {
      for (let i = 0; i < 2 * limit + 1; i++) {
        const res = await send();
        if (res.status !== allowed) return res;
      }
      throw new Error(`no refusal after ${2 * limit + 1} requests`);
    }
    const login = await untilRefused(() => call("GET", "/auth/login", { headers: from }), 30, 302);
    expect({ status: login.status, code: errorOf(login).code }).toEqual({ status: 429, code: "rate_limited" });
    expect(Number(login.headers.get("retry-after"))).toBeGreaterThan(0);

    const wrongKey = { ...from, authorization: "Bearer opx_not_a_key" };
    const me = await untilRefused(() => call("GET", "/api/me", { headers: wrongKey }), 20, 401);
    expect({ status: me.status, code: errorOf(me).code }).toEqual({ status: 429, code: "rate_limited" });
    expect(Number(me.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("the sample covered every route and answer it is meant to", () => {
    const missing = REQUIRED_SAMPLE.filter((entry) => !openapi.covered.has(entry));
    expect(missing).toEqual([]);
  });
});

describe("the openapi.yaml response validator", () => {
  const openapi = createOpenApiValidator();
  const json = (method: string, path: string, status: number, body: unknown, contentType = "application/json; charset=utf-8") =>
    openapi.check({ method, path, status, contentType, text: JSON.stringify(body) }).problems;
  const member = { githubUserId: 5001, login: "alice", role: "admin", addedAt: "2026-11-20T12:00:00.000Z" };

  test("accepts an answer that matches", () => {
    expect(json("GET", "/api/teams/7/members", 200, [member])).toEqual([]);
    expect(json("GET", "/api/teams/7/members", 404, { error: { code: "not_found", message: "Team 7 not found" } })).toEqual([]);
    expect(openapi.check({ method: "DELETE", path: "/api/teams/7/members/5001", status: 204, contentType: null, text: "" }).problems).toEqual([]);
  });

  test.each<[string, () => string[], RegExp]>([
    ["a status the operation does not describe", () => json("GET", "/api/teams/7/members", 500, { error: { code: "internal", message: "x" } }), /answered 500, which openapi.yaml does not describe/],
    ["a missing required field", () => json("GET", "/api/teams/7/members", 200, [{ ...member, addedAt: undefined }]), /\/0 must have required property 'addedAt'/],
    ["a field of the wrong type", () => json("GET", "/api/teams/7/members", 200, [{ ...member, githubUserId: "5001" }]), /\/0\/githubUserId must be integer/],
    ["an extra field where the schema is closed", () => json("GET", "/api/teams/7/members", 200, [{ ...member, token: "ghu_x" }]), /must NOT have additional properties: token/],
    ["a value outside an enum", () => json("POST", "/api/teams/7/installations", 201, { installationId: 1, account: { id: 1, login: "a", type: "Bot", avatarUrl: null }, repositorySelection: "all", suspended: false, linkedAt: "2026-11-20T12:00:00Z", linkedBy: null, repositories: "all" }), /\/account\/type must be equal to one of the allowed values/],
    ["a date that is not a date-time", () => json("GET", "/api/teams/7/members", 200, [{ ...member, addedAt: "yesterday" }]), /must match format "date-time"/],
    ["an error code the status does not carry", () => json("GET", "/api/teams/7/members", 404, { error: { code: "forbidden", message: "x" } }), /\/error\/code must be equal to constant: "not_found"/],
    ["invalid_input without details", () => json("POST", "/api/teams", 400, { error: { code: "invalid_input", message: "x" } }), /must have required property 'details'/],
    ["reauthorization_required without loginUrl", () => json("GET", "/api/me", 401, { error: { code: "reauthorization_required", message: "x" } }), /must have required property 'loginUrl'/],
    ["an error answer with a stray field", () => json("GET", "/api/me", 401, { error: { code: "unauthenticated", message: "x", stack: "at …" } }), /must NOT have additional properties: stack/],
    ["a Content-Type the response does not declare", () => json("GET", "/api/teams", 200, [], "text/html; charset=utf-8"), /answered Content-Type text\/html.*declares application\/json/],
    ["JSON where the response declares no content", () => json("GET", "/auth/login", 302, { to: "github" }), /declares no content/],
    ["a body on a 204", () => openapi.check({ method: "DELETE", path: "/api/teams/7/members/1", status: 204, contentType: "text/plain", text: "gone" }).problems, /must have no body/],
    ["a path openapi.yaml does not have", () => json("GET", "/api/nope", 200, {}), /describes no GET operation for \/api\/nope/],
    ["a body that is not JSON", () => openapi.check({ method: "GET", path: "/api/teams", status: 200, contentType: "application/json", text: "[{" }).problems, /body is not JSON/],
  ])("rejects %s", (_what, problems, expected) => {
    expect(problems().join("\n")).toMatch(expected);
  });

  test("prefers a literal segment to a {param}: GET …/installations/available is not …/installations/{installationId}", () => {
    expect(openapi.findOperation("GET", "/api/teams/7/installations/available")?.template).toBe("/api/teams/{teamId}/installations/available");
    expect(openapi.findOperation("DELETE", "/api/teams/7/installations/9")?.template).toBe("/api/teams/{teamId}/installations/{installationId}");
  });

  test("reads OpenAPI 3.0 `nullable`, status ranges and $ref'd responses", () => {
    const doc: OpenApiDocument = {
      openapi: "3.0.3",
      paths: {
        "/things/{id}": {
          get: {
            responses: {
              "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } } },
              "4XX": { $ref: "#/components/responses/Problem" },
            },
          },
        },
      },
      components: {
        responses: { Problem: { description: "p", content: { "application/json": { schema: { type: "object", required: ["error"], properties: { error: { type: "string" } } } } } } },
        schemas: { Thing: { type: "object", required: ["name"], additionalProperties: false, properties: { name: { type: "string", nullable: true } } } },
      },
    };
    const v = createOpenApiValidator(doc);
    const check = (status: number, body: unknown) => v.check({ method: "GET", path: "/things/1", status, contentType: "application/json", text: JSON.stringify(body) }).problems;
    expect(check(200, { name: null })).toEqual([]);
    expect(check(200, { name: 3 })).toEqual([expect.stringMatching(/\/name must be string,null/)]);
    expect(check(404, { error: "gone" })).toEqual([]);
    expect(check(418, {})).toEqual([expect.stringMatching(/must have required property 'error'/)]);
    expect(check(500, {})).toEqual([expect.stringMatching(/answered 500/)]);
  });
});
