import nock from "nock";
import { githubUser } from "../../fixtures/github-objects";
import { authorizationRevokedEvent } from "../../fixtures/payloads";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../../helpers/config";
import { cookiePair, errorCode, Hop, request } from "../../helpers/browser";
import { countRows } from "../../helpers/factories";
import { GITHUB_API, newTokens, nockCodeExchange, nockCodeRejected, nockGetUser, TestTokens } from "../../helpers/github-oauth";
import { findSecretsInDatabase } from "../../helpers/database-scan";
import { createTestDatabase } from "../../helpers/databases";
import { describeEachServer, startTestServer, TestServer } from "../../helpers/test-server";
import { ALICE } from "../../helpers/users";

describeEachServer("sign in with GitHub", ({ server, db }) => {
  const url = (path: string) => `${server().url}${path}`;

  /** GitHub's redirect back, from the browser that started the sign-in (it holds the state cookie). */
  const callback = (query: string, state?: string) =>
    request(url(`/auth/callback?${query}`), state ? { cookie: `octoplex_login_state=${state}` } : {});

  /** GET /auth/login, as a browser: the state GitHub would carry back. */
  async function startLogin(returnTo = "/teams/7/connect"): Promise<{ hop: Hop; state: string }> {
    const hop = await request(url(`/auth/login?return_to=${encodeURIComponent(returnTo)}`));
    const location = new URL(hop.location ?? "http://missing");
    return { hop, state: location.searchParams.get("state") ?? "" };
  }

  async function signIn(tokens: TestTokens = newTokens(), code = "code-ok") {
    const { state } = await startLogin();
    const github = [nockCodeExchange(code, tokens), nockGetUser(tokens.token, ALICE)];
    const hop = await callback(`code=${code}&state=${encodeURIComponent(state)}`, state);
    const session = hop.setCookies.find((c) => c.startsWith("octoplex_session="));
    return { callback: hop, github, tokens, code, cookie: session ? cookiePair(session) : "" };
  }

  const signInRows = async () => ({
    users: await countRows(db(), "github_users"),
    tokens: await countRows(db(), "user_tokens"),
    sessions: await countRows(db(), "sessions"),
  });
  const NOTHING = { users: 0, tokens: 0, sessions: 0 };

  test("GET /auth/login redirects to GitHub's authorize URL with a state and the callback URL", async () => {
    const { hop, state } = await startLogin();
    expect(hop.status).toBe(302);
    const location = new URL(hop.location!);
    expect(`${location.origin}${location.pathname}`).toBe("https://github.com/login/oauth/authorize");
    expect(location.searchParams.get("client_id")).toBe(TEST_CLIENT_ID);
    expect(location.searchParams.get("redirect_uri")).toBe("http://localhost:3000/auth/callback");
    expect(state).toMatch(/^[A-Za-z0-9_-]{40,}\.[A-Za-z0-9_-]{40,}$/);
    // Only a hash of the state is stored.
    expect(await db()("oauth_states").pluck("state_hash")).not.toContain(state);
    expect(await countRows(db(), "oauth_states")).toBe(1);
  });

  test("the login round trip: login → callback → session cookie → GET /api/me", async () => {
    const { callback, github, cookie } = await signIn();
    expect(callback.status).toBe(302);
    expect(callback.location).toBe("/teams/7/connect");
    const session = callback.setCookies.find((c) => c.startsWith("octoplex_session="))!;
    expect(session).toMatch(/^octoplex_session=[A-Za-z0-9_-]{40,}; /);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).not.toMatch(/; Secure/);
    // The sign-in's state cookie is spent.
    expect(callback.setCookies.find((c) => c.startsWith("octoplex_login_state="))).toMatch(/^octoplex_login_state=; /);
    for (const scope of github) expect(scope.isDone()).toBe(true);

    const me = await request(url("/api/me"), { cookie });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      user: { id: ALICE.id, login: ALICE.login, name: "alice name", avatarUrl: githubUser(ALICE).avatar_url },
      authorization: "active",
      teams: [],
    });
  });

  test("the database holds no plaintext token, refresh token, code or client secret after a sign-in", async () => {
    const { tokens, code, cookie } = await signIn();
    const sessionId = cookie.split("=")[1];
    const leaks = await findSecretsInDatabase(db(), [tokens.token, tokens.refreshToken, code, TEST_CLIENT_SECRET, sessionId]);
    expect(leaks).toEqual([]);
    expect(await countRows(db(), "user_tokens")).toBe(1);
  });

  test("GET /api/me without a session answers 401", async () => {
    const me = await request(url("/api/me"));
    expect(me.status).toBe(401);
    expect(errorCode(me.body)).toBe("unauthenticated");
  });

  test.each([
    ["a missing state", () => ""],
    ["a forged state", () => "aGVsbG8gd29ybGQgdGhpcyBpcyBmb3JnZWQgYnV0IGxvbmc.c2lnbmF0dXJlIHRoYXQgZG9lcyBub3QgbWF0Y2ggYXQgYWxs"],
    ["a state with a valid shape but unknown", () => "x"],
  ])("GET /auth/callback with %s answers 400 and stores nothing", async (_name, makeState) => {
    await startLogin();
    const state = makeState();
    const hop = await callback(`code=code-ok${state ? `&state=${encodeURIComponent(state)}` : ""}`, state || undefined);
    expect(hop.status).toBe(400);
    expect(errorCode(hop.body)).toBe("invalid_input");
    expect(hop.setCookies).toEqual([]);
    expect(await signInRows()).toEqual(NOTHING);
  });

  test("GET /auth/callback from a browser that did not start the sign-in answers 400 and stores nothing (login CSRF)", async () => {
    const { state } = await startLogin();
    const tokens = newTokens();
    nockCodeExchange("attacker-code", tokens);
    nockGetUser(tokens.token, ALICE);
    const withoutCookie = await callback(`code=attacker-code&state=${encodeURIComponent(state)}`);
    expect(withoutCookie.status).toBe(400);
    expect((withoutCookie.body as { error: { message: string } }).error.message).toMatch(/another browser/);
    expect(await signInRows()).toEqual(NOTHING);
  });

  test("GET /auth/login binds the sign-in to the browser with a short-lived HttpOnly cookie", async () => {
    const { hop, state } = await startLogin();
    expect(hop.setCookies).toEqual([expect.stringMatching(new RegExp(`^octoplex_login_state=${state.replace(/[.]/g, "\\.")}; Max-Age=600; Path=/auth; HttpOnly; SameSite=Lax$`))]);
  });

  test("GET /auth/callback with an expired state answers 400 and stores nothing", async () => {
    const { state } = await startLogin();
    await db()("oauth_states").update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    const hop = await callback(`code=code-ok&state=${encodeURIComponent(state)}`, state);
    expect(hop.status).toBe(400);
    expect(await signInRows()).toEqual(NOTHING);
    expect(await db()("oauth_states").whereNotNull("used_at").count({ n: "*" }).then((r) => Number(r[0].n))).toBe(0);
  });

  test("GET /auth/callback with a state already used answers 400 and changes nothing", async () => {
    const { state } = await startLogin();
    const tokens = newTokens();
    nockCodeExchange("code-1", tokens);
    nockGetUser(tokens.token, ALICE);
    expect((await callback(`code=code-1&state=${encodeURIComponent(state)}`, state)).status).toBe(302);
    const after = await signInRows();

    const replay = await callback(`code=code-2&state=${encodeURIComponent(state)}`, state);
    expect(replay.status).toBe(400);
    expect(replay.setCookies).toEqual([]);
    expect(await signInRows()).toEqual(after);
  });

  test("GET /auth/callback with a state issued for another purpose answers 400 and stores nothing", async () => {
    const installState = await server().deps.services.auth!.states.issue("install", { returnTo: "/", teamId: 1, githubUserId: ALICE.id });
    const hop = await callback(`code=code-ok&state=${encodeURIComponent(installState)}`, installState);
    expect(hop.status).toBe(400);
    expect(await signInRows()).toEqual(NOTHING);
  });

  test("GET /auth/callback with a code GitHub refuses answers 400 with GitHub's reason and stores nothing", async () => {
    const { state } = await startLogin();
    const github = nockCodeRejected("stale-code");
    const hop = await callback(`code=stale-code&state=${encodeURIComponent(state)}`, state);
    expect(hop.status).toBe(400);
    expect((hop.body as { error: { message: string } }).error.message).toMatch(/bad_verification_code/);
    expect(github.isDone()).toBe(true);
    expect(await signInRows()).toEqual(NOTHING);
  });

  test("GET /auth/callback when GitHub is down answers 502/503 and stores nothing", async () => {
    const { state } = await startLogin();
    nock("https://github.com").post("/login/oauth/access_token").reply(502, "Bad Gateway");
    const hop = await callback(`code=code-ok&state=${encodeURIComponent(state)}`, state);
    expect([502, 503]).toContain(hop.status);
    expect(errorCode(hop.body)).toBe("github_unavailable");
    expect(await signInRows()).toEqual(NOTHING);
  });

  test.each(["//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "teams/7"])(
    "GET /auth/login refuses return_to=%s with 400 and stores no state",
    async (returnTo) => {
      const hop = await request(url(`/auth/login?return_to=${encodeURIComponent(returnTo)}`));
      expect(hop.status).toBe(400);
      expect(errorCode(hop.body)).toBe("invalid_input");
      expect(await countRows(db(), "oauth_states")).toBe(0);
    },
  );

  test("POST /auth/logout ends the session and clears the cookie", async () => {
    const { cookie } = await signIn();
    const logout = await request(url("/auth/logout"), { method: "POST", cookie });
    expect(logout.status).toBe(204);
    expect(logout.setCookies[0]).toMatch(/^octoplex_session=; .*Expires=Thu, 01 Jan 1970/);
    expect((await request(url("/api/me"), { cookie })).status).toBe(401);
    // The grant stays: signing in again needs no new consent.
    expect(await countRows(db(), "user_tokens")).toBe(1);
  });

  test("POST /auth/logout?revoke=true also deletes the grant at GitHub and the stored tokens", async () => {
    const { cookie, tokens } = await signIn();
    const github = nock(GITHUB_API)
      .delete(`/applications/${TEST_CLIENT_ID}/grant`, (body: { access_token?: string }) => body.access_token === tokens.token)
      .matchHeader("authorization", `basic ${Buffer.from(`${TEST_CLIENT_ID}:${TEST_CLIENT_SECRET}`).toString("base64")}`)
      .reply(204);
    const logout = await request(url("/auth/logout?revoke=true"), { method: "POST", cookie });
    expect(logout.status).toBe(204);
    expect(github.isDone()).toBe(true);
    expect(await countRows(db(), "user_tokens")).toBe(0);
    expect((await request(url("/api/me"), { cookie })).status).toBe(401);
  });

  test("a github_app_authorization.revoked webhook ends the user's sessions", async () => {
    const { cookie } = await signIn();
    const res = await server().sendWebhook("github_app_authorization", authorizationRevokedEvent(ALICE.id));
    expect(res.status).toBe(200);
    expect((await request(url("/api/me"), { cookie })).status).toBe(401);
    expect(await countRows(db(), "user_tokens")).toBe(0);
  });

  test("a session cookie made under another SESSION_SECRET opens nothing", async () => {
    const { cookie } = await signIn();
    // Same database, another instance's secret: the stored HMAC does not match.
    const other = await startTestServer(server().database, {
      SESSION_SECRET: "another-instance-secret-0123456789abcdef",
    });
    try {
      expect((await request(`${other.url}/api/me`, { cookie })).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe("session cookies over https", () => {
  let server: TestServer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase("sqlite");
    drop = database.drop;
    server = await startTestServer(database, { BASE_URL: "https://octoplex.example.com" });
  });
  afterAll(async () => {
    await server.close();
    await drop();
  });

  test("the session cookie is Secure when BASE_URL is https", async () => {
    const login = await request(`${server.url}/auth/login`);
    const state = new URL(login.location!).searchParams.get("state")!;
    expect(new URL(login.location!).searchParams.get("redirect_uri")).toBe("https://octoplex.example.com/auth/callback");
    const tokens = newTokens();
    nockCodeExchange("c", tokens);
    nockGetUser(tokens.token, ALICE);
    expect(login.setCookies[0]).toMatch(/^__Host-octoplex_login_state=.*; Secure/);
    const hop = await request(`${server.url}/auth/callback?code=c&state=${encodeURIComponent(state)}`, { cookie: `__Host-octoplex_login_state=${state}` });
    expect(hop.setCookies.find((c) => c.startsWith("__Host-octoplex_session="))).toMatch(/; Secure/);
  });
});
