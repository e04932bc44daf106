import { createHash } from "node:crypto";
import { EVENT_SHAPES, LambdaHttpResult, webhookRequest } from "../fixtures/lambda-events";
import { installationEvent } from "../fixtures/payloads";
import { TEST_BASE_URL } from "../helpers/config";
import { createTestDatabase, TestDatabase } from "../helpers/databases";
import { signedInMember } from "../helpers/team-access";
import { startTestLambda, TestLambda } from "../helpers/test-lambda";
import { startTestServer, TestServer } from "../helpers/test-server";
import { ALICE } from "../helpers/users";

/**
 * Every answer (pages, API, errors, webhooks; the server and the Lambda handler) tells the browser
 * not to sniff, frame, cache or leak the URL in a Referer, and runs pages under a CSP that allows
 * nothing but their own hashed style, GitHub's avatars and their own forms. HSTS only over https.
 */
const HTTPS_BASE_URL = "https://octoplex.example.com";
const JSON_POLICY = "default-src 'none'; frame-ancestors 'none'";
const HSTS = "max-age=31536000; includeSubDomains";

type HeaderOf = (name: string) => string | undefined;

/** The CSP's directives by name: `{ "default-src": ["'none'"], … }`. */
function directives(policy: string | undefined): Record<string, string[]> {
  const entries = (policy ?? "").split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]);
  return Object.fromEntries(entries.map(([name, ...values]) => [name, values]));
}

/** The sources a page's own inline <style> elements need: their hashes. */
function styleHashes(html: string): string[] {
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`);
}

function expectSecurityHeaders(header: HeaderOf, kind: "page" | "json", https: boolean, body = ""): void {
  expect({
    "x-content-type-options": header("x-content-type-options"),
    "referrer-policy": header("referrer-policy"),
    "x-frame-options": header("x-frame-options"),
    "cache-control": header("cache-control"),
    "strict-transport-security": header("strict-transport-security"),
  }).toEqual({
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "strict-transport-security": https ? HSTS : undefined,
  });
  if (kind === "json") {
    expect(header("content-security-policy")).toBe(JSON_POLICY);
    return;
  }
  const csp = directives(header("content-security-policy"));
  expect(csp).toMatchObject({
    "default-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "img-src": ["https:"],
  });
  expect(csp["script-src"]).toBeUndefined(); // default-src 'none': no script at all
  const hashes = styleHashes(body);
  expect(hashes).toHaveLength(1);
  expect(csp["style-src"]).toEqual(hashes);
}

describe.each([
  ["http", TEST_BASE_URL],
  ["https", HTTPS_BASE_URL],
])("security headers from the server, BASE_URL %s", (scheme, baseUrl) => {
  const https = scheme === "https";
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    server = await startTestServer(database, { BASE_URL: baseUrl });
  });
  afterAll(async () => {
    await server?.close();
    await database?.drop();
  });

  async function get(path: string, init: RequestInit = {}) {
    const res = await fetch(`${server.url}${path}`, { ...init, redirect: "manual" });
    return { status: res.status, header: (name: string) => res.headers.get(name) ?? undefined, text: await res.text() };
  }
  const sessionCookie = async () => {
    const { cookie } = await signedInMember(server.deps, ALICE, null);
    return https ? `__Host-${cookie}` : cookie;
  };

  test("GET / (the signed-out page) carries every header and a CSP allowing only its hashed style", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expectSecurityHeaders(page.header, "page", https, page.text);
  });

  test("GET / signed in (forms with CSRF tokens) carries every header, no-store included", async () => {
    const page = await get("/", { headers: { cookie: await sessionCookie() } });
    expect(page.text).toContain('name="csrf"');
    expectSecurityHeaders(page.header, "page", https, page.text);
  });

  test("GET /teams/x/connect signed in (an HTML error page, 400) carries every header", async () => {
    const page = await get("/teams/x/connect", { headers: { cookie: await sessionCookie() } });
    expect(page.status).toBe(400);
    expectSecurityHeaders(page.header, "page", https, page.text);
  });

  test("GET /api/me (an API answer) carries every header and default-src 'none'", async () => {
    const me = await get("/api/me", { headers: { cookie: await sessionCookie() } });
    expect(me.status).toBe(200);
    expectSecurityHeaders(me.header, "json", https);
  });

  test.each([
    ["GET /api/me without a session (401)", "/api/me", 401],
    ["GET /nothing-here (404)", "/nothing-here", 404],
  ])("%s: the error answer carries every header", async (_name, path, status) => {
    const answer = await get(path);
    expect(answer.status).toBe(status);
    expectSecurityHeaders(answer.header, "json", https);
  });

  test("GET /auth/login (a redirect to GitHub) carries every header", async () => {
    const answer = await get("/auth/login");
    expect(answer.status).toBe(302);
    expectSecurityHeaders(answer.header, "json", https);
  });

  test("POST /api/github/webhooks: a stored delivery (200) and a refused one (401) carry every header", async () => {
    const stored = await server.sendWebhook("installation", installationEvent("created", { id: 4301 }));
    expect(stored.status).toBe(200);
    expectSecurityHeaders((name) => stored.headers.get(name) ?? undefined, "json", https);
    const refused = await server.sendWebhook("installation", installationEvent("created", { id: 4302 }), { signature: null });
    expect(refused.status).toBe(401);
    expectSecurityHeaders((name) => refused.headers.get(name) ?? undefined, "json", https);
  });
});

describe("security headers from the Lambda handler, BASE_URL https", () => {
  let database: TestDatabase;
  let lambda: TestLambda;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    lambda = await startTestLambda(database, { BASE_URL: HTTPS_BASE_URL });
  });
  afterAll(async () => {
    await lambda?.close();
    await database?.drop();
  });

  /** A header of either response format (1.0 may list it under multiValueHeaders only). */
  const headerOf = (result: LambdaHttpResult): HeaderOf => (name) => {
    const single = Object.entries(result.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
    return single ?? Object.entries(result.multiValueHeaders ?? {}).find(([k]) => k.toLowerCase() === name)?.[1]?.join(", ");
  };
  const bodyOf = (result: LambdaHttpResult) => (result.isBase64Encoded ? Buffer.from(result.body ?? "", "base64").toString("utf8") : (result.body ?? ""));

  describe.each(EVENT_SHAPES)("%s", (_shape, shape) => {
    test("GET / (a page) carries every header and the page CSP", async () => {
      const result = await lambda.invoke(shape({ method: "GET", path: "/" }));
      expect(result.statusCode).toBe(200);
      expectSecurityHeaders(headerOf(result), "page", true, bodyOf(result));
    });

    test("GET /api/me without a session (an API error, 401) carries every header", async () => {
      const result = await lambda.invoke(shape({ method: "GET", path: "/api/me" }));
      expect(result.statusCode).toBe(401);
      expectSecurityHeaders(headerOf(result), "json", true);
    });

    test("POST /api/github/webhooks: a stored delivery (200) and a forged one (401) carry every header", async () => {
      const stored = await lambda.invoke(shape(webhookRequest("installation", installationEvent("created", { id: 4401 + Math.floor(Math.random() * 1e6) }))));
      expect(stored.statusCode).toBe(200);
      expectSecurityHeaders(headerOf(stored), "json", true);
      const forged = await lambda.invoke(shape(webhookRequest("installation", installationEvent("created", { id: 4402 }), { secret: "not-the-secret" })));
      expect(forged.statusCode).toBe(401);
      expectSecurityHeaders(headerOf(forged), "json", true);
    });
  });
});
