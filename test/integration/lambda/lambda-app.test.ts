import nock from "nock";
import { migrateLatest } from "../../../src/db/migrate";
import { createDeps, Deps } from "../../../src/deps";
import { createLambdaApp, LambdaApp } from "../../../src/lambda/lambda-app";
import {
  apiGatewayV2Event,
  bodyText,
  EVENT_SHAPES,
  EventShape,
  headerOf,
  HttpRequest,
  jobEvent,
  jsonBody,
  lambdaContext,
  LambdaHttpResult,
  restApiV1Event,
  scheduledEvent,
  setCookiesOf,
  webhookRequest,
} from "../../fixtures/lambda-events";
import { githubMembership } from "../../fixtures/github-answers";
import { githubInstallation, installationEvent, ORG, pushEvent } from "../../fixtures/payloads";
import { testConfig, TEST_CLIENT_ID } from "../../helpers/config";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "../../helpers/databases";
import { countRows, seedInstallation, seedTeams } from "../../helpers/factories";
import { PlatformReceiver, platformEnv, startPlatformReceiver, waitUntil } from "../../helpers/platform-receiver";
import { subscribedTeam } from "../../helpers/team-events";
import { GITHUB_API, newTokens, nockCodeExchange, nockGetUser } from "../../helpers/github-oauth";
import { recordingLogger, RecordingLogger } from "../../helpers/recording-logger";
import { signedInMember } from "../../helpers/team-access";
import { TestOctokit } from "../../helpers/test-octokit";
import { sign } from "../../helpers/test-server";
import { ALICE } from "../../helpers/users";

// Lambda's database is Postgres; without one here, the same cases run on SQLite.
const kind = databaseKinds().includes("postgres") ? "postgres" : "sqlite";

describe(`the Lambda handler (createLambdaApp) on ${kind}`, () => {
  let database: TestDatabase;
  let deps: Deps;
  let app: LambdaApp;
  let logs: RecordingLogger;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    logs = recordingLogger();
    deps = createDeps(testConfig(database.config, { APP_SLUG: "octoplex-test" }), { Octokit: TestOctokit, log: logs.log });
    await migrateLatest(deps.db);
    app = createLambdaApp(deps);
  });
  beforeEach(async () => {
    await truncateAll(deps.db);
    logs.clear();
  });
  afterAll(async () => {
    await deps?.close();
    await database?.drop();
  });

  const invoke = (event: unknown) => app.handle(event, lambdaContext()) as Promise<LambdaHttpResult>;
  const installationIds = () => deps.db("installations").pluck("id").then((ids) => ids.map(Number));
  const stored = async () => ({ installations: await countRows(deps.db, "installations"), deliveries: await countRows(deps.db, "webhook_deliveries") });

  describe.each(EVENT_SHAPES)("%s", (_name, shape: EventShape) => {
    const http = (request: HttpRequest) => invoke(shape(request));

    test("POST /api/github/webhooks with a signed installation.created answers 200 and stores the installation and the delivery", async () => {
      const request = webhookRequest("installation", installationEvent("created", { id: 4101 }), { deliveryId: "d-4101" });
      const result = await http(request);
      expect(result.statusCode).toBe(200);
      expect(jsonBody(result)).toEqual({ ok: true });
      expect(await installationIds()).toEqual([4101]);
      expect(await deps.db("webhook_deliveries").pluck("id")).toEqual(["d-4101"]);
    });

    test("POST /api/github/webhooks with a forged signature answers 401 and stores nothing", async () => {
      const result = await http(webhookRequest("installation", installationEvent("created", { id: 4102 }), { secret: "not-the-webhook-secret" }));
      expect(result.statusCode).toBe(401);
      expect(jsonBody(result)).toEqual({ error: { code: "unauthenticated", message: expect.stringMatching(/does not match/) } });
      expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
    });

    test("POST /api/github/webhooks without a signature answers 401 and stores nothing", async () => {
      const request = webhookRequest("installation", installationEvent("created", { id: 4103 }));
      delete request.headers!["X-Hub-Signature-256"];
      const result = await http(request);
      expect(result.statusCode).toBe(401);
      expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
    });

    test("POST /api/github/webhooks with a base64-encoded signed body answers 200 and stores the installation", async () => {
      const result = await http(webhookRequest("installation", installationEvent("created", { id: 4104 }), { base64: true }));
      expect(result.statusCode).toBe(200);
      expect(await installationIds()).toEqual([4104]);
    });

    test("GET /auth/login answers 302 to GitHub's authorize URL and sets the sign-in state cookie", async () => {
      const result = await http({ method: "GET", path: "/auth/login", query: "return_to=%2Fteams%2F7%2Fconnect" });
      expect(result.statusCode).toBe(302);
      const location = new URL(headerOf(result, "location")!);
      expect(`${location.origin}${location.pathname}`).toBe("https://github.com/login/oauth/authorize");
      expect(location.searchParams.get("client_id")).toBe(TEST_CLIENT_ID);
      const state = location.searchParams.get("state")!;
      expect(setCookiesOf(result)).toEqual([`octoplex_login_state=${state}; Max-Age=600; Path=/auth; HttpOnly; SameSite=Lax`]);
    });

    test("GET /auth/callback with the state cookie sent back answers 302 with a session cookie, and every Set-Cookie value survives", async () => {
      const login = await http({ method: "GET", path: "/auth/login", query: "return_to=%2Fteams%2F7%2Fconnect" });
      const state = new URL(headerOf(login, "location")!).searchParams.get("state")!;
      const tokens = newTokens();
      const github = [nockCodeExchange("code-lambda", tokens), nockGetUser(tokens.token, ALICE)];

      const result = await http({
        method: "GET",
        path: "/auth/callback",
        query: `code=code-lambda&state=${encodeURIComponent(state)}`,
        // The browser sends every cookie it holds for the path, not only ours.
        cookies: ["_ga=GA1.1.123.456", `octoplex_login_state=${state}`],
      });

      expect(result.statusCode).toBe(302);
      expect(headerOf(result, "location")).toBe("/teams/7/connect");
      const cookies = setCookiesOf(result);
      expect(cookies).toHaveLength(2);
      expect(cookies).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^octoplex_session=[A-Za-z0-9_-]{40,}; .*HttpOnly.*SameSite=Lax/),
          expect.stringMatching(/^octoplex_login_state=; /),
        ]),
      );
      for (const scope of github) expect(scope.isDone()).toBe(true);
      expect(await countRows(deps.db, "sessions")).toBe(1);
    });

    test("GET /api/teams with an API key acting for nobody answers 200 with every team, role null", async () => {
      const teams = await seedTeams(deps.db, 2, "lambda");
      const { key } = await deps.services.apiKeys.create("platform");
      const result = await http({ method: "GET", path: "/api/teams", headers: { Authorization: `Bearer ${key}` } });
      expect(result.statusCode).toBe(200);
      expect(headerOf(result, "content-type")).toMatch(/^application\/json/);
      expect(jsonBody(result)).toEqual(teams.map((t) => ({ id: t.id, name: t.name, role: null })));
    });

    test("GET /api/teams without credentials answers 401", async () => {
      const result = await http({ method: "GET", path: "/api/teams" });
      expect(result.statusCode).toBe(401);
      expect(jsonBody(result)).toMatchObject({ error: { code: "unauthenticated" } });
    });

    test("GET /teams/:teamId/connect answers the HTML page with the installations the person can reach", async () => {
      const [team] = await seedTeams(deps.db, 1, "lambda-connect");
      const alice = await signedInMember(deps, ALICE, team.id, "admin");
      const reachable = githubInstallation({ id: 4201, account: ORG });
      const github = nock(GITHUB_API)
        .get("/user/installations")
        .query(true)
        .matchHeader("authorization", `token ${alice.tokens.token}`)
        .reply(200, { total_count: 1, installations: [reachable] })
        .get(`/user/memberships/orgs/${ORG.login}`)
        .reply(200, githubMembership(ORG, ALICE, { role: "admin", state: "active" }));

      const result = await http({ method: "GET", path: `/teams/${team.id}/connect`, cookies: [alice.cookie] });

      expect(result.statusCode).toBe(200);
      expect(headerOf(result, "content-type")).toMatch(/^text\/html/);
      const html = bodyText(result);
      expect(html).toContain(`Connect GitHub to ${team.name}`);
      expect(html).toContain(`aria-label="Connect ${ORG.login}"`);
      expect(html).toContain("https://github.com/apps/octoplex-test/installations/new?state=");
      expect(github.isDone()).toBe(true);
    });

    test("GET /healthz answers 200 with the database ok", async () => {
      const result = await http({ method: "GET", path: "/healthz" });
      expect(result.statusCode).toBe(200);
      expect(jsonBody(result)).toEqual({ status: "ok", database: "ok" });
    });

    test("an unknown path answers 404 in the JSON error shape", async () => {
      const result = await http({ method: "GET", path: "/no/such/route" });
      expect(result.statusCode).toBe(404);
      expect(jsonBody(result)).toEqual({ error: { code: "not_found", message: "No route for GET /no/such/route" } });
    });
    test("GET /auth/login is limited per the event's source IP: the 31st answers 429 with Retry-After whatever X-Forwarded-For the client sends", async () => {
      const login = (sourceIp: string, forwardedFor: string) =>
        http({ method: "GET", path: "/auth/login", sourceIp, headers: { "X-Forwarded-For": forwardedFor } });
      for (let i = 0; i < 30; i++) expect((await login("192.0.2.10", `198.51.100.${i}`)).statusCode).toBe(302);

      const refused = await login("192.0.2.10", "198.51.100.99");

      expect(refused.statusCode).toBe(429);
      expect(Number(headerOf(refused, "retry-after"))).toBeGreaterThan(0);
      expect(jsonBody(refused)).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
      expect(await countRows(deps.db, "oauth_states")).toBe(30);
      expect((await login("192.0.2.11", "198.51.100.99")).statusCode).toBe(302);
    });
  });

  describe("API Gateway HTTP API (v2) specifics", () => {
    test("Set-Cookie values come back in the response's cookies array, not as a header", async () => {
      const result = await invoke(apiGatewayV2Event({ method: "GET", path: "/auth/login", query: "return_to=%2F" }));
      expect(result.cookies).toEqual([expect.stringMatching(/^octoplex_login_state=/)]);
      expect(headerOf(result, "set-cookie")).toBeUndefined();
      expect(result.multiValueHeaders).toBeUndefined();
    });
  });

  describe("API Gateway REST API (v1) specifics", () => {
    test("Set-Cookie values come back in multiValueHeaders, not as a single header", async () => {
      const result = await invoke(restApiV1Event({ method: "GET", path: "/auth/login", query: "return_to=%2F" }));
      expect(result.multiValueHeaders?.["set-cookie"]).toEqual([expect.stringMatching(/^octoplex_login_state=/)]);
      expect(headerOf(result, "set-cookie")).toBeUndefined();
    });
  });

  describe("webhook requests the server would refuse", () => {
    test("a forged webhook without X-GitHub-Event answers 401, as the server does: the signature is checked first", async () => {
      const request = webhookRequest("installation", installationEvent("created", { id: 4105 }), { secret: "not-the-webhook-secret" });
      delete request.headers!["X-GitHub-Event"];
      const result = await invoke(apiGatewayV2Event(request));
      expect(result.statusCode).toBe(401);
      expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
    });

    test("a signed webhook without X-GitHub-Delivery answers 400 invalid_input and stores nothing", async () => {
      const request = webhookRequest("installation", installationEvent("created", { id: 4106 }));
      delete request.headers!["X-GitHub-Delivery"];
      const result = await invoke(apiGatewayV2Event(request));
      expect(result.statusCode).toBe(400);
      expect(jsonBody(result)).toMatchObject({ error: { code: "invalid_input" } });
      expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
    });

    test("a signed webhook whose body is not JSON answers 400 invalid_input", async () => {
      const request = webhookRequest("installation", {});
      request.body = "not json";
      request.headers!["X-Hub-Signature-256"] = sign("not json");
      const result = await invoke(apiGatewayV2Event(request));
      expect(result.statusCode).toBe(400);
      expect(jsonBody(result)).toMatchObject({ error: { code: "invalid_input" } });
    });
  });

  describe("scheduled jobs", () => {
    test.each([
      ["EventBridge's scheduled event", scheduledEvent()],
      ['{"octoplex":{"job":"reconcile"}}', jobEvent("reconcile")],
    ])("%s runs reconcile (GET /app/installations) and redeliver (GET /app/hook/deliveries)", async (_name, event) => {
      const github = nock(GITHUB_API)
        .get("/app/installations")
        .query({ per_page: "100" })
        .matchHeader("authorization", /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i)
        .reply(200, [githubInstallation({ id: 4301, account: ORG })])
        .get("/app/hook/deliveries")
        .query({ per_page: "100" })
        .matchHeader("authorization", /^bearer [\w-]+\.[\w-]+\.[\w-]+$/i)
        .reply(200, []);

      const report = await app.handle(event, lambdaContext());

      expect(github.isDone()).toBe(true);
      expect(report).toMatchObject({ reconcile: { added: [{ id: 4301, login: ORG.login }] }, redeliver: { scanned: 0, redelivered: [] } });
      expect(await installationIds()).toEqual([4301]);
      expect(logs.entries().some((e) => e.msg === "scheduled jobs done")).toBe(true);
    });

    test("an event that is neither HTTP nor a known job is refused with a message naming what arrived", async () => {
      await expect(app.handle({ Records: [] }, lambdaContext())).rejects.toThrow(/unknown event.*Records/);
    });
  });

  test("a webhook whose handler throws answers 500, names the delivery, and the log carries the delivery id", async () => {
    // A second app on the same database whose installation.created handler fails.
    const failing = createDeps(testConfig(database.config), { Octokit: TestOctokit, log: logs.log });
    jest.spyOn(failing.services.installationEvents, "created").mockRejectedValue(new Error("the database went away"));
    try {
      const result = (await createLambdaApp(failing).handle(
        apiGatewayV2Event(webhookRequest("installation", installationEvent("created", { id: 4401 }), { deliveryId: "d-fails-4401" })),
        lambdaContext(),
      )) as LambdaHttpResult;

      expect(result.statusCode).toBe(500);
      expect(jsonBody(result)).toEqual({ error: { code: "internal", message: expect.stringContaining("d-fails-4401") } });
      const entry = logs.entries().find((e) => e.msg === "webhook handler failed");
      expect(entry).toMatchObject({ level: 50, deliveryId: "d-fails-4401", event: "installation" });
      expect(JSON.stringify(entry)).toContain("the database went away");
      expect(await stored()).toEqual({ installations: 0, deliveries: 0 });
    } finally {
      await failing.close();
    }
  });
});

describe(`GitHub events routed through the Lambda handler on ${kind}`, () => {
  let database: TestDatabase;
  let deps: Deps;
  let receiver: PlatformReceiver;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    receiver = await startPlatformReceiver();
    deps = createDeps(testConfig(database.config, platformEnv(receiver)), { Octokit: TestOctokit, log: recordingLogger().log });
    await migrateLatest(deps.db);
  });
  afterAll(async () => {
    await deps?.close();
    await receiver?.close();
    await database?.drop();
  });

  test("a signed push to the Lambda handler reaches the subscribed team, sent by the dispatch job, as a verified github.push, GitHub's payload unchanged", async () => {
    await seedInstallation(deps.db, 4401);
    const teamId = await subscribedTeam(deps.db, "lambda-pushes", 4401);
    const payload = pushEvent(4401, { id: 44, name: "api" }, "f".repeat(40));
    const app = createLambdaApp(deps);

    const result = (await app.handle(apiGatewayV2Event(webhookRequest("push", payload, { deliveryId: "d-4401" })), lambdaContext())) as LambdaHttpResult;
    expect(result.statusCode).toBe(200);
    await app.handle(jobEvent("dispatch"), lambdaContext());

    await waitUntil(() => receiver.accepted().length > 0, "the routed push to reach the platform");
    expect(receiver.accepted().map((r) => [r.verified, r.body.type, r.body.data])).toEqual([
      [true, "github.push", { teamId, installationId: 4401, deliveryId: "d-4401", event: "push", action: null, repository: { id: 44, fullName: "acme/api" }, payload }],
    ]);
  });
});
