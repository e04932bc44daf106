import nock from "nock";
import { createOAuthStates } from "../../src/services/identity/oauth-states";
import { Hop, request } from "../helpers/browser";
import { TEST_BASE_URL, TEST_CLIENT_SECRET } from "../helpers/config";
import { findSecretsInDatabase } from "../helpers/database-scan";
import { DatabaseSnapshot, snapshotDatabase } from "../helpers/database-snapshot";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { GITHUB_API, GITHUB_WEB, newTokens, nockCodeExchange, nockCodeRejected, nockGetUser, tokenBody, TestTokens } from "../helpers/github-oauth";
import { expectError } from "../helpers/http-expect";
import { describeEachServer } from "../helpers/test-server";
import { ALICE } from "../helpers/users";

/**
 * Sign-in under attack: forged, expired, reused and cross-purpose states; return_to values that
 * would leave the site; a code used twice; GitHub answering with an error page or not at all.
 * Every refusal: the error shape, no session cookie, and no row written beyond the single-use
 * state the attempt spent (a refused state spends nothing).
 */
describeEachServer("hostile sign-in", ({ server, db }) => {
  const url = (path: string) => `${server().url}${path}`;
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => {
    github.stop();
    jest.restoreAllMocks();
  });

  /** GET /auth/login, as a browser: the state GitHub would carry back (also held in the browser's cookie). */
  async function startLogin(returnTo = "/teams/7/connect", headers: Record<string, string> = {}): Promise<{ hop: Hop; state: string }> {
    const hop = await request(url(`/auth/login?return_to=${encodeURIComponent(returnTo)}`), { headers });
    const location = new URL(hop.location ?? "http://missing");
    return { hop, state: location.searchParams.get("state") ?? "" };
  }

  /** GitHub's redirect back to the browser holding `browserState` in its cookie. */
  const callback = (query: string, browserState?: string) =>
    request(url(`/auth/callback?${query}`), browserState ? { cookie: `octoplex_login_state=${browserState}` } : {});

  const withState = (code: string, state: string) => `code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`;

  /** A complete, successful sign-in of Alice with this code. */
  async function signIn(code: string, tokens: TestTokens = newTokens()) {
    const { state } = await startLogin();
    const scopes = [nockCodeExchange(code, tokens), nockGetUser(tokens.token, ALICE)];
    const hop = await callback(withState(code, state), state);
    expect(hop.status).toBe(302);
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    return { tokens, hop };
  }

  const sessionCookies = (hop: Hop) => hop.setCookies.filter((c) => c.startsWith("octoplex_session="));

  /** A refused callback: the error, no session, GitHub not asked (when `githubAsked` is false) and the database as it was. */
  async function expectRefused(hop: Hop, before: DatabaseSnapshot, options: { status?: number | number[]; code?: string; githubAsked?: boolean; except?: string[] } = {}) {
    expectError(hop, options.status ?? 400, options.code ?? "invalid_input");
    expect(sessionCookies(hop)).toEqual([]);
    if (!options.githubAsked) expect(github.calls).toEqual([]);
    expect(await snapshotDatabase(db(), { except: options.except })).toEqual(before);
  }

  describe("the state", () => {
    const OTHER_SECRET = "another-instance-session-secret-0123456789";

    test.each<[string, (real: string) => string | Promise<string>]>([
      ["no state at all", () => ""],
      ["a random string", () => "hello"],
      ["the real nonce with a forged signature", (real) => `${real.split(".")[0]}.${"A".repeat(43)}`],
      ["a signature without its nonce", (real) => `.${real.split(".")[1]}`],
      ["the real state with a third segment", (real) => `${real}.x`],
      ["the real state with a character changed", (real) => `${real.slice(0, -1)}${real.endsWith("A") ? "B" : "A"}`],
      ["a state of 600 characters", () => "a".repeat(300) + "." + "b".repeat(299)],
      ["a state issued by an instance with another SESSION_SECRET (same database)", () => createOAuthStates({ db: db(), secret: OTHER_SECRET, now: () => new Date() }).issue("login", { returnTo: "/" })],
    ])("GET /auth/callback with %s answers 400, exchanges no code and writes nothing", async (_name, make) => {
      const { state: real } = await startLogin();
      const state = await make(real);
      const before = await snapshotDatabase(db());
      // The browser holds whatever it sends: only the state itself is wrong.
      const hop = await callback(state ? withState("code-1", state) : "code=code-1", state || undefined);
      await expectRefused(hop, before);
    });

    test("GET /auth/callback with an expired state answers 400, exchanges no code and writes nothing", async () => {
      const { state } = await startLogin();
      await db()("oauth_states").update({ expires_at: new Date(Date.now() - 1000).toISOString() });
      const before = await snapshotDatabase(db());
      await expectRefused(await callback(withState("code-1", state), state), before);
    });

    test("GET /auth/callback with a state already used answers 400, exchanges no code and changes nothing", async () => {
      const { state } = await startLogin();
      const tokens = newTokens();
      nockCodeExchange("code-1", tokens);
      nockGetUser(tokens.token, ALICE);
      expect((await callback(withState("code-1", state), state)).status).toBe(302);
      const before = await snapshotDatabase(db());
      await expectRefused(await callback(withState("code-2", state), state), before);
    });

    test("GET /auth/callback with an install state (another purpose) answers 400, exchanges no code and writes nothing", async () => {
      const installState = await server().deps.services.auth!.states.issue("install", { returnTo: "/teams/1/connect", teamId: 1, githubUserId: ALICE.id });
      const before = await snapshotDatabase(db());
      await expectRefused(await callback(withState("code-1", installState), installState), before);
    });

    test("GET /auth/callback with a valid state from a browser that did not start the sign-in (login CSRF) exchanges no code, signs no one in and spends nothing", async () => {
      const { state } = await startLogin();
      const before = await snapshotDatabase(db());
      await expectRefused(await callback(withState("attacker-code", state)), before);
      await expectRefused(await callback(withState("attacker-code", state), "another-browser's-state"), before);
      // The person whose sign-in it is can still finish it: a hostile callback cannot use it up.
      const tokens = newTokens();
      const scopes = [nockCodeExchange("alice-code", tokens), nockGetUser(tokens.token, ALICE)];
      expect((await callback(withState("alice-code", state), state)).status).toBe(302);
      for (const scope of scopes) expect(scope.isDone()).toBe(true);
    });
  });

  describe("return_to", () => {
    test.each([
      "//evil.example",
      "///evil.example",
      "//evil.example/teams/7",
      "https://evil.example",
      "http:evil.example",
      "HTTPS://evil.example",
      "/\\evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/\r\nSet-Cookie: octoplex_session=x",
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "teams/7",
      " /teams/7",
      "evil.example",
      `/${"a".repeat(2100)}`,
    ])("GET /auth/login refuses return_to=%j with 400 and stores no state", async (returnTo) => {
      const hop = await request(url(`/auth/login?return_to=${encodeURIComponent(returnTo)}`));
      expectError(hop, 400, "invalid_input");
      expect(hop.location).toBeNull();
      expect(hop.setCookies).toEqual([]);
      expect(await snapshotDatabase(db())).toEqual(await emptySnapshot());
    });

    test("GET /auth/login refuses two return_to values with 400 and stores no state", async () => {
      const hop = await request(url(`/auth/login?return_to=/teams/7&return_to=${encodeURIComponent("//evil.example")}`));
      expectError(hop, 400, "invalid_input");
      expect(await snapshotDatabase(db())).toEqual(await emptySnapshot());
    });

    test.each(["/teams/7/connect?next=//evil.example", "/%2F%2Fevil.example", "/.//evil.example", "/teams/7#//evil.example"])(
      "return_to=%j, accepted, sends the browser back to a page of this site only",
      async (returnTo) => {
        const { state } = await startLogin(returnTo);
        const tokens = newTokens();
        nockCodeExchange("code-ok", tokens);
        nockGetUser(tokens.token, ALICE);
        const hop = await callback(withState("code-ok", state), state);
        expect(hop.status).toBe(302);
        expect(new URL(hop.location!, `${TEST_BASE_URL}/auth/callback`).origin).toBe(TEST_BASE_URL);
      },
    );

    test("a forwarded Host does not move GitHub's redirect_uri off BASE_URL", async () => {
      const { hop } = await startLogin("/", { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" });
      expect(hop.status).toBe(302);
      expect(new URL(hop.location!).searchParams.get("redirect_uri")).toBe(`${TEST_BASE_URL}/auth/callback`);
    });

    async function emptySnapshot(): Promise<DatabaseSnapshot> {
      return Object.fromEntries(Object.keys(await snapshotDatabase(db())).map((t) => [t, []]));
    }
  });

  describe("the code", () => {
    test("a code used a second time (GitHub: bad_verification_code, with HTTP 200) answers 400 and stores no session or token", async () => {
      const { tokens } = await signIn("code-once");
      const { state } = await startLogin();
      const before = await snapshotDatabase(db(), { except: ["oauth_states"] });
      const refused = nockCodeRejected("code-once");

      const hop = await callback(withState("code-once", state), state);

      await expectRefused(hop, before, { githubAsked: true, except: ["oauth_states"] });
      expect((hop.body as { error: { message: string } }).error.message).toMatch(/bad_verification_code/);
      expect(refused.isDone()).toBe(true);
      // Only the first sign-in's tokens are stored, encrypted.
      expect(await findSecretsInDatabase(db(), [tokens.token, tokens.refreshToken, "code-once", TEST_CLIENT_SECRET])).toEqual([]);
    });

    test("the install callback (no state) never trades its code: it sends the browser to /setup, which signs it in first", async () => {
      const before = await snapshotDatabase(db());
      const hop = await callback("code=any-code&installation_id=70001&setup_action=install");
      expect(hop.status).toBe(302);
      expect(hop.location).toBe("/setup?installation_id=70001&setup_action=install");
      expect(sessionCookies(hop)).toEqual([]);
      expect(github.calls).toEqual([]);
      expect(await snapshotDatabase(db())).toEqual(before);
    });

    test.each([
      ["an HTML error page (502 text/html)", () => nock(GITHUB_WEB).post("/login/oauth/access_token").reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", { "content-type": "text/html" }), [502]],
      ["an HTML page with 200 (a proxy's login page)", () => nock(GITHUB_WEB).post("/login/oauth/access_token").reply(200, "<html><body>Sign in to the proxy</body></html>", { "content-type": "text/html", date: new Date().toUTCString() }), [502, 503]],
      ["503 with an empty body", () => nock(GITHUB_WEB).post("/login/oauth/access_token").reply(503, ""), [503]],
      ["a dropped connection", () => nock(GITHUB_WEB).post("/login/oauth/access_token").replyWithError({ code: "ECONNRESET", message: "socket hang up" }), [502, 503]],
    ])("GitHub answering the code exchange with %s answers 502/503 github_unavailable and stores nothing", async (_name, arrange, statuses) => {
      const { state } = await startLogin();
      const before = await snapshotDatabase(db(), { except: ["oauth_states"] });
      const scope = arrange();
      const hop = await callback(withState("code-1", state), state);
      await expectRefused(hop, before, { status: statuses as number[], code: "github_unavailable", githubAsked: true, except: ["oauth_states"] });
      expect(hop.text).not.toMatch(/<html|Bad Gateway|proxy/i);
      expect(scope.isDone()).toBe(true);
    });

    test("GitHub not answering the code exchange within the OAuth timeout answers 503 github_unavailable and stores nothing", async () => {
      // The OAuth client bounds each call with AbortSignal.timeout(10 s): shortened here, so the real abort path runs.
      const timeout = AbortSignal.timeout.bind(AbortSignal);
      const asked: number[] = [];
      jest.spyOn(AbortSignal, "timeout").mockImplementation((ms: number) => (asked.push(ms), timeout(ms >= 10_000 ? 100 : ms)));
      const { state } = await startLogin();
      const before = await snapshotDatabase(db(), { except: ["oauth_states"] });
      const tokens = newTokens();
      nock(GITHUB_WEB).post("/login/oauth/access_token").delay(1_000).reply(200, tokenBody(tokens), { date: new Date().toUTCString() });

      const started = Date.now();
      const hop = await callback(withState("code-1", state), state);

      expect(Date.now() - started).toBeLessThan(900);
      expect(asked).toContain(10_000);
      await expectRefused(hop, before, { status: 503, code: "github_unavailable", githubAsked: true, except: ["oauth_states"] });
      expect(await findSecretsInDatabase(db(), [tokens.token, tokens.refreshToken])).toEqual([]);
    });

    test("a code GitHub trades but whose GET /user fails answers 502 and stores neither the user, the tokens nor a session", async () => {
      const { state } = await startLogin();
      const before = await snapshotDatabase(db(), { except: ["oauth_states"] });
      const tokens = newTokens();
      const exchange = nockCodeExchange("code-1", tokens);
      const user = nock(GITHUB_API).get("/user").reply(502, "<html>Bad Gateway</html>", { "content-type": "text/html" });
      const hop = await callback(withState("code-1", state), state);
      await expectRefused(hop, before, { status: [502, 503], code: "github_unavailable", githubAsked: true, except: ["oauth_states"] });
      expect(exchange.isDone() && user.isDone()).toBe(true);
    });
  });
});
