// The fake GitHub's REST API, GHES layout (/api/v3/…): what Octoplex asks as a user, as the app,
// and as the OAuth client. Served by fake-github.ts from the world in github-world.ts.
import { mintInstallationToken, requestedTokenFormat } from "../fixtures/tokens";
import type { TestUser } from "../helpers/github-oauth";
import { githubError, githubInstallationToken, githubMembership, githubTokenAuthorization } from "../fixtures/github-answers";
import { githubApp, githubPublicUser } from "../fixtures/github-objects";
import { badCredentials, basicAuth, bearer, isJwt, json, notFound, paginate, Reply, Route, RouteContext } from "./fake-http";
import { GithubWorld, INSTALLATION_PERMISSIONS } from "./github-world";

export interface RestContext {
  world: GithubWorld;
  /** The fake's origin, for absolute Link URLs. */
  origin: string;
  appSlug(): string;
  clientId: string;
  clientSecret: string;
  /** The user a user access token belongs to, while it is valid. */
  userOfToken(token: string): TestUser | undefined;
  /** Every token of the user's grant stops working. */
  revokeGrant(userId: number): void;
  revokeToken(token: string): void;
  /** ghs_ token → installation id, for the installation tokens handed out. */
  installationTokens: Map<string, number>;
  /** ghs_ token → what a token minted with repository_ids or permissions was limited to. */
  installationTokenLimits: Map<string, TokenLimits>;
}

export interface TokenLimits {
  /** Undefined: every repository of the installation. */
  repositoryIds?: number[];
  permissions: Record<string, string>;
}

const RANK: Record<string, number> = { read: 1, write: 2, admin: 3 };

const API = "/api/v3";
const route = (method: string, path: string, handler: Route[2]): Route => [method, new RegExp(`^${API}${path}$`), handler];

export function restRoutes(c: RestContext): Route[] {
  const asUser = (ctx: RouteContext, work: (user: TestUser) => Reply): Reply => {
    const token = bearer(ctx.req);
    const user = token === undefined ? undefined : c.userOfToken(token);
    return user ? work(user) : badCredentials();
  };
  const asApp = (ctx: RouteContext, work: () => Reply | Promise<Reply>): Reply | Promise<Reply> =>
    isJwt(bearer(ctx.req))
      ? work()
      : json(401, { message: "A JSON web token could not be decoded", documentation_url: "https://docs.github.com/rest" });
  const asClient = (ctx: RouteContext, work: () => Promise<Reply>): Promise<Reply> | Reply => {
    const auth = basicAuth(ctx.req);
    return auth?.user === c.clientId && auth.password === c.clientSecret && ctx.params[0] === c.clientId ? work() : notFound();
  };
  const hosts = () => ({ web: c.origin, api: `${c.origin}${API}` });
  const userJson = (user: TestUser) => githubPublicUser(user, hosts());

  return [
    route("GET", "/user", (ctx) => asUser(ctx, (user) => json(200, userJson(user)))),

    route("GET", "/user/installations", (ctx) =>
      asUser(ctx, (user) => {
        const reachable = c.world.reachableBy(user.id);
        const { page, headers } = paginate(reachable, ctx.url, c.origin);
        return json(200, { total_count: reachable.length, installations: page.map(c.world.installationJson) }, headers);
      }),
    ),

    route("GET", "/user/memberships/orgs/([^/]+)", (ctx) =>
      asUser(ctx, (user) => {
        const org = c.world.org(ctx.params[0]);
        const membership = org && c.world.membership(org.login, user.id);
        if (!org || !membership) return notFound();
        return json(200, githubMembership(org, user, membership, hosts()));
      }),
    ),

    route("GET", "/app", (ctx) => asApp(ctx, () => json(200, githubApp({ slug: c.appSlug() }, hosts())))),

    route("GET", "/app/installations", (ctx) =>
      asApp(ctx, () => {
        const { page, headers } = paginate(c.world.installations(), ctx.url, c.origin);
        return json(200, page.map(c.world.installationJson), headers);
      }),
    ),

    route("GET", "/app/installations/(\\d+)", (ctx) =>
      asApp(ctx, () => {
        const installation = c.world.installation(Number(ctx.params[0]));
        return installation ? json(200, c.world.installationJson(installation)) : notFound();
      }),
    ),

    route("POST", "/app/installations/(\\d+)/access_tokens", (ctx) =>
      asApp(ctx, async () => {
        const installation = c.world.installation(Number(ctx.params[0]));
        if (!installation) return notFound();
        if (installation.suspended) return json(403, githubError("This installation has been suspended"));
        // GitHub's current ghs_<app id>_<JWT> unless X-GitHub-Stateless-S2S-Token: disabled asks for the classic one.
        // As GitHub: a token may be limited to some of the installation's repositories and permissions, never widened.
        const asked = (await ctx.body()) as { repository_ids?: number[]; permissions?: Record<string, string> };
        const reached = c.world.repositoriesOf(installation.id);
        if (asked.repository_ids && asked.repository_ids.length > 500) return json(422, githubError("Too many repositories (at most 500)"));
        const strangers = (asked.repository_ids ?? []).filter((id) => !reached.some((r) => r.id === id));
        if (strangers.length > 0) return json(422, githubError("There is at least one repository that does not exist or is not accessible to the parent installation."));
        const beyond = Object.entries(asked.permissions ?? {}).filter(([name, level]) => (RANK[INSTALLATION_PERMISSIONS[name]] ?? 0) < (RANK[level] ?? 9));
        if (beyond.length > 0) return json(422, githubError("The permissions requested are not granted to this installation."));
        const format = requestedTokenFormat(ctx.req.headers["x-github-stateless-s2s-token"]);
        const token = mintInstallationToken(format, appIdOf(bearer(ctx.req)), installation.id);
        c.installationTokens.set(token, installation.id);
        const permissions = asked.permissions ?? INSTALLATION_PERMISSIONS;
        if (asked.repository_ids || asked.permissions) c.installationTokenLimits.set(token, { repositoryIds: asked.repository_ids, permissions });
        const covered = asked.repository_ids ? reached.filter((r) => asked.repository_ids!.includes(r.id)) : undefined;
        return json(
          201,
          githubInstallationToken(token, {
            permissions,
            repositorySelection: covered ? "selected" : installation.repositorySelection,
            repositories: covered?.map(c.world.repositoryJson),
          }),
        );
      }),
    ),

    // The OAuth client's token endpoints (Basic auth with client id and secret): check and delete.
    route("POST", "/applications/([^/]+)/token", (ctx) =>
      asClient(ctx, async () => {
        const token = (await ctx.body()).access_token;
        const user = token === undefined ? undefined : c.userOfToken(token);
        return user ? json(200, githubTokenAuthorization(token!, user, c.clientId, hosts())) : notFound();
      }),
    ),
    route("DELETE", "/applications/([^/]+)/token", (ctx) =>
      asClient(ctx, async () => {
        const token = (await ctx.body()).access_token;
        if (token) c.revokeToken(token);
        return { status: 204 };
      }),
    ),
    route("DELETE", "/applications/([^/]+)/grant", (ctx) =>
      asClient(ctx, async () => {
        const token = (await ctx.body()).access_token;
        const user = token === undefined ? undefined : c.userOfToken(token);
        if (!user) return notFound();
        c.revokeGrant(user.id);
        return { status: 204 };
      }),
    ),
  ];
}

/** The app id a JWT was issued by (its `iss`; a client id is not one), as GitHub puts it in the token it mints. */
function appIdOf(jwt: string | undefined): string | undefined {
  try {
    const iss = JSON.parse(Buffer.from((jwt ?? "").split(".")[1] ?? "", "base64url").toString("utf8")).iss;
    return /^\d+$/.test(String(iss)) ? String(iss) : undefined;
  } catch {
    return undefined;
  }
}
