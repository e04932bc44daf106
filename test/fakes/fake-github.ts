/**
 * GitHub as a real HTTP server on loopback: OAuth, the REST API (GHES layout, /api/v3) and the
 * two web pages Octoplex sends browsers to (authorize, install). For tests and benchmarks that
 * run other processes or a browser (nock only intercepts inside its own process).
 *
 * Stable API (the e2e and browser tests build on it):
 *
 *   const github = await startFakeGithub({ setupUrl: `${app}/setup` });  // setupUrl may be set later: github.app.setupUrl = …
 *   // Octoplex config: GHE_HOST = new URL(github.url).host, GHE_PROTOCOL = "http"
 *   github.world.addOrg({ id: 9001, login: "acme" }); github.world.setMembership("acme", BOB, "admin");
 *   github.world.install(github.world.org("acme")!)          // an installation that exists already
 *   github.signInAs(BOB);                                    // who is signed in to GitHub in "the browser"
 *   github.setInstallTarget(github.world.org("acme")!);      // where the next /apps/:slug/installations/new installs
 *   github.failNext("/api/v3/user/installations", 502);      // the next such request answers 502 (times: 3rd arg)
 *   github.reset();                                          // between tests: world, tokens, sign-in, failures, log
 *
 * Endpoints:
 *   GET  /login/oauth/authorize?client_id&redirect_uri&state  → 302 redirect_uri?code=<fresh code for signInAs's user>&state
 *   POST /login/oauth/access_token                            code exchange and refresh (refresh tokens are single-use;
 *                                                              refusals are HTTP 200 with an `error` field, as GitHub does)
 *   GET  /apps/:slug/installations/new?state                  installs on setInstallTarget's account (an existing one:
 *                                                              setup_action=update), calls app.onInstall, then 302 to
 *                                                              app.setupUrl?installation_id&setup_action&state, or, with
 *                                                              app.requestOAuthOnInstall, to app.callbackUrl?code&installation_id&setup_action
 *   /api/v3: GET /user, GET /user/installations (paginated, Link), GET /user/memberships/orgs/:org,
 *            GET /app, GET /app/installations (paginated), GET /app/installations/:id,
 *            POST /app/installations/:id/access_tokens (any well-formed JWT; tokens in GitHub's current ghs_<app id>_<JWT>
 *            format, the classic ghs_ + 36 with `X-GitHub-Stateless-S2S-Token: disabled`), POST|DELETE /applications/:client_id/token,
 *            DELETE /applications/:client_id/grant.   GET /user also answers at the root (api.github.com layout).
 */
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { githubError } from "../fixtures/github-answers";
import { githubUser } from "../fixtures/github-objects";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../helpers/config";
import { newTokens, tokenBody, TestTokens, TestUser } from "../helpers/github-oauth";
import { Body, json, notFound, parseBody, readBody, redirect, Reply, Route, send } from "./fake-http";
import { restRoutes, TokenLimits } from "./github-rest";
import { createGithubWorld, FakeAccount, FakeInstallation, GithubWorld } from "./github-world";

export type { FakeAccount, FakeInstallation, GithubWorld } from "./github-world";

export interface FakeGithubOptions {
  /** How long a refresh takes here; the default 50 ms widens the window in which racing callers overlap. */
  refreshDelayMs?: number;
  clientId?: string;
  clientSecret?: string;
  /** The app's slug (GET /app, install URLs); default "octoplex". */
  appSlug?: string;
  /** Where GitHub sends the browser after an install: Octoplex's `${BASE_URL}/setup`. */
  setupUrl?: string;
  /** The app's registered callback URL: Octoplex's `${BASE_URL}/auth/callback`. */
  callbackUrl?: string;
}

/** The GitHub App's registration, as its settings page holds it; change it at any time. */
export interface FakeAppSettings {
  slug: string;
  setupUrl?: string;
  callbackUrl?: string;
  /** "Request user authorization (OAuth) during installation": installs come back to callbackUrl with a code. */
  requestOAuthOnInstall: boolean;
  /** Called with each new (or updated) installation before the browser is redirected, e.g. to deliver a webhook. */
  onInstall?: (installation: FakeInstallation, action: "install" | "update") => void | Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
}

export interface FakeGithub {
  /** The origin, e.g. http://127.0.0.1:54321: as GHE_HOST (protocol http) or as an OAuth baseUrl. */
  url: string;
  /** `${url}/api/v3`: Octoplex's githubBaseUrl for this fake. */
  apiUrl: string;
  world: GithubWorld;
  app: FakeAppSettings;
  /** POST /login/oauth/access_token with grant_type=refresh_token received, whatever the answer. */
  readonly refreshCalls: number;
  /** The newest pair handed out (by issue, a code exchange or a refresh). */
  readonly current: TestTokens | undefined;
  readonly currentRefreshToken: string | undefined;
  /** Every request received since the start or the last reset, in order. */
  readonly requests: readonly RecordedRequest[];
  /** A pair GitHub knows, as if `user` had signed in: its refresh token works once. */
  issue(user?: TestUser): TestTokens;
  /** A single-use authorization code that exchanges for a new pair of `user`'s. */
  addCode(code: string, user: TestUser): void;
  /** The person signed in to GitHub in the browser (added to the world); null: nobody, authorize answers 401. */
  signInAs(user: TestUser | null): void;
  /** The account the next install lands on (a user or an org of the world; added when new). */
  setInstallTarget(account: FakeAccount | TestUser): void;
  /** The next `times` requests whose path starts with `pathPrefix` answer `status` (default 502). */
  failNext(pathPrefix: string, status?: number, times?: number): void;
  /** Every request under `pathPrefix` answers `status` until clearFailures(). */
  failAlways(pathPrefix: string, status?: number): void;
  clearFailures(): void;
  /** The user's grant is revoked on GitHub: every token of theirs stops working. */
  revokeGrant(userId: number): void;
  /** The installation a ghs_ token was issued for. */
  installationOfToken(token: string): number | undefined;
  /** The user a user access token belongs to, while it is valid. */
  userOfToken(token: string): TestUser | undefined;
  /** What a down-scoped ghs_ token was limited to (undefined: the installation's whole reach). */
  limitsOfInstallationToken(token: string): TokenLimits | undefined;
  /** An `installation` webhook payload for the installation as the world has it now. */
  installationEvent(action: "created" | "deleted" | "suspend" | "unsuspend", installation: FakeInstallation): Record<string, unknown>;
  /** More endpoints, from a module of their own (e.g. github-installation-api.ts); tried after the built-in ones, kept by reset(). */
  addRoutes(routes: Route[]): void;
  /** Back to an empty world: users, orgs, installations, tokens, codes, sign-in, install target, failures, log. */
  reset(): void;
  close(): Promise<void>;
}

const OCTOCAT: TestUser = { id: 583231, login: "octocat" };

export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const { refreshDelayMs = 50, clientId = TEST_CLIENT_ID, clientSecret = TEST_CLIENT_SECRET } = options;
  const app: FakeAppSettings = {
    slug: options.appSlug ?? "octoplex",
    setupUrl: options.setupUrl,
    callbackUrl: options.callbackUrl,
    requestOAuthOnInstall: false,
  };
  const world = createGithubWorld(() => app.slug);
  const refreshTokens = new Map<string, { user: TestUser; used: boolean }>();
  const accessTokens = new Map<string, TestUser>();
  const codes = new Map<string, TestUser>();
  const installationTokens = new Map<string, number>();
  const installationTokenLimits = new Map<string, TokenLimits>();
  const failures: Array<{ prefix: string; status: number; times: number }> = [];
  const requests: RecordedRequest[] = [];
  let refreshCalls = 0;
  let current: TestTokens | undefined;
  let signedIn: TestUser | null = null;
  let installTarget: FakeAccount | undefined;

  function issue(user: TestUser = OCTOCAT): TestTokens {
    const tokens = newTokens();
    refreshTokens.set(tokens.refreshToken, { user, used: false });
    accessTokens.set(tokens.token, user);
    current = tokens;
    return tokens;
  }

  function freshCode(user: TestUser): string {
    const code = `fakecode${randomBytes(10).toString("hex")}`;
    codes.set(code, user);
    return code;
  }

  function revokeGrant(userId: number): void {
    for (const [token, user] of accessTokens) if (user.id === userId) accessTokens.delete(token);
    for (const [token, grant] of refreshTokens) if (grant.user.id === userId) refreshTokens.delete(token);
  }

  async function accessToken(body: Body): Promise<Reply> {
    if (body.client_id !== clientId || body.client_secret !== clientSecret) {
      return oauthError("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    }
    if (body.grant_type === "refresh_token") {
      refreshCalls++;
      const grant = refreshTokens.get(body.refresh_token);
      // Spent at arrival: a second request racing the first one is refused, as GitHub would.
      const usable = grant !== undefined && !grant.used;
      if (grant) grant.used = true;
      await new Promise((resolve) => setTimeout(resolve, refreshDelayMs));
      if (!usable) return oauthError("bad_refresh_token", "The refresh token passed is incorrect or expired.");
      return json(200, tokenBody(issue(grant.user)));
    }
    const user = body.code === undefined ? undefined : codes.get(body.code);
    if (!user) return oauthError("bad_verification_code", "The code passed is incorrect or expired.");
    codes.delete(body.code);
    return json(200, tokenBody(issue(user)));
  }

  function authorize(url: URL): Reply {
    const q = url.searchParams;
    if (q.get("client_id") !== clientId) return { status: 404, body: "fake GitHub: unknown client_id" };
    const redirectUri = q.get("redirect_uri") ?? app.callbackUrl;
    if (!redirectUri) return { status: 400, body: "fake GitHub: no redirect_uri and no callbackUrl set" };
    if (app.callbackUrl && !redirectUri.startsWith(app.callbackUrl)) {
      return { status: 400, body: `fake GitHub: redirect_uri ${redirectUri} is not under the app's callback URL` };
    }
    if (!signedIn) return { status: 401, body: "fake GitHub: nobody is signed in; call signInAs(user) first" };
    const target = new URL(redirectUri);
    target.searchParams.set("code", freshCode(signedIn));
    if (q.get("state") !== null) target.searchParams.set("state", q.get("state")!);
    return redirect(target.toString());
  }

  async function installNew(url: URL, slug: string): Promise<Reply> {
    if (slug !== app.slug) return notFound();
    if (!signedIn) return { status: 401, body: "fake GitHub: nobody is signed in; call signInAs(user) first" };
    if (!installTarget) return { status: 400, body: "fake GitHub: no install target; call setInstallTarget(account) first" };
    const target = installTarget;
    const existing = world.installations().find((i) => i.account.id === target.id);
    const installation = existing ?? world.install(target);
    const action = existing ? "update" : "install";
    await app.onInstall?.(installation, action);
    const params = new URLSearchParams({ installation_id: String(installation.id), setup_action: action });
    if (app.requestOAuthOnInstall) {
      if (!app.callbackUrl) return { status: 400, body: "fake GitHub: requestOAuthOnInstall needs app.callbackUrl" };
      return redirect(`${app.callbackUrl}?code=${freshCode(signedIn)}&${params}`);
    }
    if (!app.setupUrl) return { status: 400, body: "fake GitHub: no setup URL; set app.setupUrl" };
    const state = url.searchParams.get("state");
    if (state !== null) params.set("state", state);
    return redirect(`${app.setupUrl}?${params}`);
  }

  let origin = "";
  const routes: Route[] = [
    ["POST", /^\/login\/oauth\/access_token$/, async (ctx) => accessToken(await ctx.body())],
    ["GET", /^\/login\/oauth\/authorize$/, (ctx) => authorize(ctx.url)],
    ["GET", /^\/apps\/([^/]+)\/installations\/new$/, (ctx) => installNew(ctx.url, ctx.params[0])],
    ...restRoutes({
      world,
      get origin() {
        return origin;
      },
      appSlug: () => app.slug,
      clientId,
      clientSecret,
      userOfToken: (token) => accessTokens.get(token),
      revokeGrant,
      revokeToken: (token) => void accessTokens.delete(token),
      installationTokens,
      installationTokenLimits,
    }),
  ];

  async function route(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? "/", origin);
    requests.push({ method: req.method ?? "GET", path: url.pathname, search: url.search });
    const failure = failures.find((f) => url.pathname.startsWith(f.prefix) && f.times > 0);
    if (failure) {
      failure.times--;
      return json(failure.status, githubError(failure.status >= 500 ? "Server Error" : "Injected failure"));
    }
    // GET /user also at the root (api.github.com layout), as older callers ask it.
    const path = url.pathname === "/user" ? "/api/v3/user" : url.pathname;
    for (const [method, pattern, handler] of routes) {
      const match = req.method === method ? pattern.exec(path) : null;
      if (!match) continue;
      let body: Promise<Body> | undefined;
      const params = match.slice(1).map((p) => decodeURIComponent(p));
      return handler({ req, url, params, body: () => (body ??= readBody(req).then((raw) => parseBody(req, raw))) });
    }
    return notFound();
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req)
      .then((reply) => send(res, reply))
      .catch((error: Error) => send(res, json(500, { message: error.message })));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: origin,
    apiUrl: `${origin}/api/v3`,
    world,
    app,
    get refreshCalls() {
      return refreshCalls;
    },
    get current() {
      return current;
    },
    get currentRefreshToken() {
      return current?.refreshToken;
    },
    get requests() {
      return requests;
    },
    issue,
    addCode: (code, user) => void codes.set(code, user),
    signInAs(user) {
      if (user && !world.user(user.id)) world.addUser(user);
      signedIn = user;
    },
    setInstallTarget(account) {
      installTarget = "type" in account ? account : world.addUser(account);
      if (installTarget.type === "Organization" && !world.org(installTarget.login)) world.addOrg(installTarget);
      if (installTarget.type === "User" && !world.user(installTarget.id)) world.addUser(installTarget);
    },
    addRoutes: (extra) => void routes.push(...extra),
    failNext: (prefix, status = 502, times = 1) => void failures.push({ prefix, status, times }),
    failAlways: (prefix, status = 502) => void failures.push({ prefix, status, times: Infinity }),
    clearFailures: () => void failures.splice(0),
    revokeGrant,
    installationOfToken: (token) => installationTokens.get(token),
    userOfToken: (token) => accessTokens.get(token),
    limitsOfInstallationToken: (token) => installationTokenLimits.get(token),
    installationEvent(action, installation) {
      const sender = signedIn ?? OCTOCAT;
      return {
        action,
        installation: world.installationJson(installation),
        ...(action === "created" ? { repositories: [] } : {}),
        sender: githubUser(sender),
      };
    },
    reset() {
      world.reset();
      refreshTokens.clear();
      accessTokens.clear();
      codes.clear();
      installationTokens.clear();
      installationTokenLimits.clear();
      failures.splice(0);
      requests.splice(0);
      refreshCalls = 0;
      current = undefined;
      signedIn = null;
      installTarget = undefined;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function oauthError(error: string, description: string): Reply {
  return json(200, { error, error_description: description, error_uri: "https://docs.github.com/apps/oauth" });
}
