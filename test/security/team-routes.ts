import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Express } from "express";
import { load } from "js-yaml";
import type { Knex } from "knex";
import { hmac } from "../../src/crypto/secrets";
import type { Deps } from "../../src/deps";
import { SESSION_COOKIE } from "../../src/http/session-cookie";
import { addTeamMember } from "../../src/repositories/teams";
import { createSessions } from "../../src/services/identity/sessions";
import { browserHeaders, Hop, request } from "../helpers/browser";
import { TEST_SESSION_SECRET } from "../helpers/config";
import { DatabaseSnapshot, snapshotDatabase } from "../helpers/database-snapshot";
import { servedRoutes } from "../helpers/express-routes";
import { createTestDatabase, databaseKinds, TestDatabase, truncateAll } from "../helpers/databases";
import { NOW, seedLinks, seedTeams } from "../helpers/factories";
import { signedInMember, teamWithInstallation } from "../helpers/team-access";
import { startTestServer, TestServer } from "../helpers/test-server";
import { ALICE, BOB } from "../helpers/users";

/**
 * Every /api/teams/:teamId/… route with a request that is valid in every respect but who sends
 * it, shared by the authorization matrix and the bad-id suite. `routeCoverage` checks the list
 * against the express app and openapi.yaml, so a new route fails those suites until it has a row.
 */

export const ACME = { id: 9001, login: "acme", type: "Organization", avatarUrl: null };
export const CAROL = { id: 5003, login: "carol" };
export const MALLORY = { id: 5666, login: "mallory" };
export const INSTALLATION = 73001;
export const OTHER_SESSION_SECRET = "another-instance-session-secret-0123456789";

export interface World {
  teamId: number;
  installationId: number;
  /** Cookie headers (`octoplex_session=…`). */
  admin: string;
  member: string;
  outsider: string;
  expiredSession: string;
  revokedSession: string;
  otherSecretSession: string;
  revokedKey: string;
  /** A working key: it may act on every team. */
  key: string;
}

/** The ids a request carries, each replaceable by a test: path segments and body fields alike. */
export interface Ids {
  teamId: string | number;
  githubUserId: string | number;
  installationId: unknown;
  owner: string;
  repo: string;
}
export type IdSlot = keyof Ids;

export interface Route {
  /** METHOD and path as openapi.yaml writes it. */
  key: string;
  /** The least role that may call it. */
  role: "member" | "admin";
  /** What a refused call must leave undone, for test names. */
  nothing: string;
  build(ids: Ids): { path: string; body?: unknown };
  /**
   * The answer when the caller may: a status, or "github" when the route goes on to ask GitHub
   * (which nock refuses in these suites, so it ends as github_unavailable after GitHub was called).
   */
  allowed: number | "github";
}

// Dot segments encoded too: a client would otherwise resolve them away before sending.
const seg = (v: string | number) => encodeURIComponent(String(v)).replace(/\./g, "%2E");
const FILES = [{ path: "README.md", content: "# hi\n" }];

export const ROUTES: Route[] = [
  {
    key: "GET /api/teams/{teamId}/members",
    role: "member",
    nothing: "lists no member",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/members` }),
    allowed: 200,
  },
  {
    key: "PUT /api/teams/{teamId}/members/{githubUserId}",
    role: "admin",
    nothing: "makes no one admin",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/members/${seg(i.githubUserId)}`, body: { role: "admin" } }),
    allowed: 200,
  },
  {
    key: "DELETE /api/teams/{teamId}/members/{githubUserId}",
    role: "admin",
    nothing: "removes no member",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/members/${seg(i.githubUserId)}` }),
    allowed: 204,
  },
  {
    key: "GET /api/teams/{teamId}/audit",
    role: "member",
    nothing: "shows no audit event",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/audit?limit=10` }),
    allowed: 200,
  },
  {
    key: "GET /api/teams/{teamId}/subscriptions",
    role: "member",
    nothing: "shows no subscription",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/subscriptions` }),
    allowed: 200,
  },
  {
    key: "PUT /api/teams/{teamId}/subscriptions",
    role: "admin",
    nothing: "subscribes to nothing",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/subscriptions`, body: { events: ["push"] } }),
    allowed: 200,
  },
  {
    key: "GET /api/teams/{teamId}/installations",
    role: "member",
    nothing: "lists no installation",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/installations` }),
    allowed: 200,
  },
  {
    key: "GET /api/teams/{teamId}/installations/available",
    role: "member",
    nothing: "issues no install state",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/installations/available` }),
    allowed: "github",
  },
  {
    key: "POST /api/teams/{teamId}/installations",
    role: "admin",
    nothing: "links nothing",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/installations`, body: { installationId: i.installationId } }),
    allowed: "github",
  },
  {
    key: "PATCH /api/teams/{teamId}/installations/{installationId}",
    role: "admin",
    nothing: "changes no scope",
    // Narrowing to nothing: no GitHub proof needed, so the answer is the database's alone.
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/installations/${seg(i.installationId as string)}`, body: { repositories: [] } }),
    allowed: 200,
  },
  {
    key: "DELETE /api/teams/{teamId}/installations/{installationId}",
    role: "admin",
    nothing: "unlinks nothing",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/installations/${seg(i.installationId as string)}` }),
    allowed: 204,
  },
  {
    key: "GET /api/teams/{teamId}/repositories",
    role: "member",
    nothing: "lists no repository",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/repositories?limit=10` }),
    allowed: 200,
  },
  {
    key: "POST /api/teams/{teamId}/repositories",
    role: "member",
    nothing: "creates no repository",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/repositories`, body: { installationId: i.installationId, name: i.repo } }),
    allowed: "github",
  },
  {
    key: "POST /api/teams/{teamId}/repositories/{owner}/{repo}/commits",
    role: "member",
    nothing: "commits nothing",
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/repositories/${seg(i.owner)}/${seg(i.repo)}/commits`, body: { branch: "main", message: "m", files: FILES } }),
    allowed: "github",
  },
  {
    key: "POST /api/teams/{teamId}/tokens",
    role: "member",
    nothing: "issues no token",
    // The whole of the installation ("all" scope): the route goes on to mint through GitHub.
    build: (i) => ({ path: `/api/teams/${seg(i.teamId)}/tokens`, body: { installationId: i.installationId } }),
    allowed: "github",
  },
];

/** The ids of the arranged world: the target of PUT is Mallory (made admin), of DELETE member Carol. */
export function idsOf(w: World, method: string, overrides: Partial<Ids> = {}): Ids {
  return {
    teamId: w.teamId,
    githubUserId: method === "PUT" ? MALLORY.id : CAROL.id,
    installationId: w.installationId,
    owner: ACME.login,
    repo: "widgets",
    ...overrides,
  };
}

export const methodOf = (route: Route) => route.key.split(" ")[0];

/** `:teamId` for test names, as the route tests write paths. */
export const label = (key: string) => key.replace(/\{(\w+)\}/g, ":$1");

/** Sends the route's request with these ids and headers. */
export function send(baseUrl: string, route: Route, ids: Ids, headers: Record<string, string>): Promise<Hop> {
  const { path, body } = route.build(ids);
  const init = {
    method: methodOf(route),
    headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  // fetch resolves %2E%2E segments as the URL standard says; a hostile client sends them as they are.
  return /(^|\/)%2E(%2E)?(\/|$|\?)/.test(path) ? rawRequest(`${baseUrl}${path}`, init) : request(`${baseUrl}${path}`, init);
}

/** One HTTP request with the path exactly as given (no URL normalisation), read as a Hop. */
function rawRequest(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Hop> {
  const { host, origin } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: host.split(":")[0], port: Number(host.split(":")[1]), method: init.method, path: url.slice(origin.length), headers: Object.fromEntries(browserHeaders(init)) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        const setCookie = res.headers["set-cookie"] ?? [];
        resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? null, setCookies: setCookie, body, text });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const TEAM_ROUTE = /^\w+ \/api\/teams\/\{teamId\}\//;

/** Every METHOD /path the express app serves under /api/teams/:teamId, written as openapi.yaml writes it. */
export function servedTeamRoutes(app: Express): string[] {
  return servedRoutes(app).filter((r) => TEAM_ROUTE.test(r));
}

export function documentedTeamRoutes(): string[] {
  const spec = load(readFileSync(join(__dirname, "../../openapi.yaml"), "utf8")) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(spec.paths)
    .flatMap(([path, ops]) => Object.keys(ops).filter((k) => k !== "parameters").map((m) => `${m.toUpperCase()} ${path}`))
    .filter((r) => TEAM_ROUTE.test(r))
    .sort();
}

/**
 * A team with acme's installation (also linked to Mallory's team), its admin Alice, members Bob
 * and Carol; Mallory signed in and admin of her own team; Alice's expired, revoked and
 * other-secret sessions; a revoked key and a working one (already used once, so its "last used"
 * is not written again for a minute).
 */
export async function arrange(deps: Deps): Promise<World> {
  const auth = deps.services.auth!;
  const { teamId } = await teamWithInstallation(deps, INSTALLATION, ACME);
  const admin = await signedInMember(deps, ALICE, teamId, "admin");
  const member = await signedInMember(deps, BOB, teamId, "member");
  await addTeamMember(deps.db, teamId, CAROL.id, "member", NOW);
  const [malloryTeam] = await seedTeams(deps.db, 1, "mallory");
  await seedLinks(deps.db, INSTALLATION, [malloryTeam]);
  const outsider = await signedInMember(deps, MALLORY, malloryTeam.id, "admin");

  const expired = await createSessions({ db: deps.db, secret: TEST_SESSION_SECRET, now: () => new Date(Date.now() - 8 * 24 * 3600_000) }).create(ALICE.id);
  const revoked = await auth.sessions.create(ALICE.id);
  await deps.db("sessions").where({ id_hash: hmac(TEST_SESSION_SECRET, `session:${revoked.id}`) }).update({ revoked_at: new Date(Date.now() - 1000).toISOString() });
  // Another instance on the same database, with its own SESSION_SECRET, signed Alice in.
  const otherSecret = await createSessions({ db: deps.db, secret: OTHER_SESSION_SECRET, now: () => new Date() }).create(ALICE.id);

  const retired = await deps.services.apiKeys.create("retired platform");
  await deps.services.apiKeys.revoke(retired.apiKey.id);
  const working = await deps.services.apiKeys.create("platform");
  await deps.services.apiKeys.authenticate(working.key);

  return {
    teamId,
    installationId: INSTALLATION,
    admin: admin.cookie,
    member: member.cookie,
    outsider: outsider.cookie,
    expiredSession: `${SESSION_COOKIE}=${expired.id}`,
    revokedSession: `${SESSION_COOKIE}=${revoked.id}`,
    otherSecretSession: `${SESSION_COOKIE}=${otherSecret.id}`,
    revokedKey: retired.key,
    key: working.key,
  };
}

export interface WorldContext {
  server: () => TestServer;
  db: () => Knex;
  /** The arranged world, as `arrange` left it: every test starts from it. */
  world: () => World;
  /** The database as the world was arranged, row for row. */
  baseline: () => DatabaseSnapshot;
}

/**
 * Runs a describe block once per database (describeEachServer's SQLite and Postgres) against the
 * real server, with the world arranged once: before each test it is rebuilt only when the test
 * before it wrote something, so the many refusal tests (which write nothing, and prove it) share one.
 */
export function describeEachWorld(title: string, body: (ctx: WorldContext) => void): void {
  describe.each(databaseKinds())(`${title} on %s`, (kind) => {
    let database: TestDatabase;
    let server: TestServer;
    let world: World;
    let baseline: DatabaseSnapshot;
    const rebuild = async () => {
      await truncateAll(server.deps.db);
      world = await arrange(server.deps);
      baseline = await snapshotDatabase(server.deps.db);
    };
    beforeAll(async () => {
      database = await createTestDatabase(kind);
      server = await startTestServer(database);
      await rebuild();
    });
    beforeEach(async () => {
      // A refused API key is counted against the caller's address: no part of the world, and no reason to rebuild it.
      await server.deps.db("rate_limits").delete();
      if (!isDeepStrictEqual(await snapshotDatabase(server.deps.db), baseline)) await rebuild();
    });
    afterAll(async () => {
      await server?.close();
      await database?.drop();
    });
    body({ server: () => server, db: () => server.deps.db, world: () => world, baseline: () => baseline });
  });
}
