import nock from "nock";
import type { InstallationSnapshot } from "../../src/repositories/installations";
import * as answers from "../fixtures/github-answers";
import * as objects from "../fixtures/github-objects";
import { createdRepository } from "../fixtures/payloads";
import { newInstallationToken } from "../fixtures/tokens";
import { LOGIN_STATE_COOKIE, SESSION_COOKIE } from "../../src/http/session-cookie";
import { Hop, request } from "../helpers/browser";
import { countRows, seedInstallation, seedTeams } from "../helpers/factories";
import { isAppJwt, nockInstallationToken, tokenHeader } from "../helpers/github-app";
import { GithubFault, nockFault, NockedFault } from "../helpers/github-faults";
import { GITHUB_API, newTokens, nockCodeExchange, nockGetUser, TestUser } from "../helpers/github-oauth";
import { nockRepository } from "../helpers/nock-repository";
import { installationIds, SignedInMember, signedInMember, teamWithInstallation } from "../helpers/team-access";
import type { ServerContext } from "../helpers/test-server";

/**
 * Each outbound GitHub call of the HTTP API, arranged to fail (github-faults.test.ts): the request
 * to Octoplex that makes it, the fault on it, the answers every other call needs, and what a
 * success or a failure leaves behind.
 */
export const APP_SLUG = "octoplex";
const BASE = "1111111111111111111111111111111111111111";

export interface Arranged {
  /** The request to Octoplex that makes the faulty call. */
  send(): Promise<Hop>;
  fault: NockedFault;
  /** Whether the faulty call was made again after the fault and answered properly. */
  retried(): boolean;
  /** The other GitHub calls a success needs, each answered once. */
  rest: nock.Scope[];
  /** What a success answers and leaves behind. */
  succeeded(hop: Hop): Promise<void>;
  /** What must be left undone at GitHub (and in the token cache) when the call never recovers. */
  untouched?(): Promise<void>;
}

export type CallKey =
  | "available"
  | "linkInstallations"
  | "linkMembership"
  | "linkAppInstallation"
  | "repoMint"
  | "repoOrg"
  | "repoUser"
  | "commitBlobs"
  | "commitTrees"
  | "commitCommits"
  | "commitRefs"
  | "signInUser";

/** Every request that went through an interceptor of `scope`. */
function counted(scope: nock.Scope): () => number {
  let n = 0;
  scope.on("request", () => n++);
  return () => n;
}

const githubInstallation = (id: number, account: InstallationSnapshot["account"]) =>
  objects.githubInstallation({ id, account: { id: account.id, login: account.login, type: account.type as "Organization" | "User" }, events: [] });

/** GET /user/installations for the holder of `token`. */
export const nockUserInstallations = (token: string, installations: unknown[]) =>
  nock(GITHUB_API).get("/user/installations").query(true).matchHeader("authorization", tokenHeader(token)).reply(200, { total_count: installations.length, installations });

/** GET /user/memberships/orgs/:org: the holder of `token` is an active admin. */
const nockAdminMembership = (token: string, org: { id: number; login: string }, user: TestUser) =>
  nock(GITHUB_API)
    .get(`/user/memberships/orgs/${org.login}`)
    .matchHeader("authorization", tokenHeader(token))
    .reply(200, answers.githubMembership(org, user, { role: "admin", state: "active" }));

/** The calls, each acting on a user, installation and organization of its own, and the requests the tests send themselves. */
export function githubCalls({ server, db }: ServerContext) {
  // The server's token cache and Probot's throttle outlive a test's tables: every call acts on ids of its own.
  const nextInstallationId = installationIds(91001);
  let lastUser = 7000;
  const newUser = (): TestUser => ({ id: ++lastUser, login: `user-${lastUser}` });
  const orgOf = (installationId: number): InstallationSnapshot["account"] => ({
    id: 200000 + installationId,
    login: `org-${installationId}`,
    type: "Organization",
    avatarUrl: null,
  });
  const url = (path: string) => `${server().url}${path}`;

  const api = (member: SignedInMember, method: string, path: string, body?: unknown) =>
    request(url(path), {
      method,
      cookie: member.cookie,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });

  /** A new team with `user` (a new one unless given) signed in as its `role`. */
  async function teamMember(role: "admin" | "member", user = newUser()) {
    const [team] = await seedTeams(db(), 1, `team-${user.id}`);
    return { teamId: team.id, user, member: await signedInMember(server().deps, user, team.id, role) };
  }

  /** A team with an organization's installation linked, and a new member. */
  async function teamWithOrgInstallation() {
    const installationId = nextInstallationId();
    const account = orgOf(installationId);
    const { teamId } = await teamWithInstallation(server().deps, installationId, account);
    const member = await signedInMember(server().deps, newUser(), teamId);
    return { teamId, member, installationId, account };
  }

  /** GET /auth/login as a browser would: the state GitHub carries back. */
  async function startSignIn(): Promise<string> {
    const hop = await request(url("/auth/login?return_to=/teams"));
    return new URL(hop.location!).searchParams.get("state")!;
  }

  const callback = (code: string, state: string) =>
    request(url(`/auth/callback?code=${code}&state=${encodeURIComponent(state)}`), { cookie: `${LOGIN_STATE_COOKIE}=${state}` });

  const linksOf = (teamId: number) => db()("team_installations").where({ team_id: teamId }).pluck("installation_id");

  /** A link of an org installation the caller administers; the fault is on `faulty`, the installation known to Octoplex unless it is the app call. */
  async function arrangeLink(faulty: "installations" | "membership" | "app", fault: GithubFault, times: number): Promise<Arranged> {
    const installationId = nextInstallationId();
    const account = orgOf(installationId);
    if (faulty !== "app") await seedInstallation(db(), installationId, { account, targetType: "Organization" });
    const { teamId, member, user } = await teamMember("admin");
    const token = member.tokens.token;
    const calls = {
      installations: { method: "GET", path: "/user/installations", authorization: tokenHeader(token) },
      membership: { method: "GET", path: `/user/memberships/orgs/${account.login}`, authorization: tokenHeader(token) },
      app: { method: "GET", path: `/app/installations/${installationId}`, authorization: isAppJwt },
    } as const;
    const broken = nockFault(calls[faulty], fault, times);
    const scopes = {
      installations: nockUserInstallations(token, [githubInstallation(installationId, account)]),
      membership: nockAdminMembership(token, account, user),
      app: faulty === "app" ? nock(GITHUB_API).get(`/app/installations/${installationId}`).matchHeader("authorization", isAppJwt).reply(200, githubInstallation(installationId, account)) : undefined,
    };
    const retried = counted(scopes[faulty]!);
    return {
      send: () => api(member, "POST", `/api/teams/${teamId}/installations`, { installationId }),
      fault: broken,
      retried: () => retried() > 0,
      rest: Object.entries(scopes).filter(([key, scope]) => key !== faulty && scope !== undefined).map(([, scope]) => scope!),
      async succeeded(hop) {
        expect(hop.status).toBe(201);
        expect((await linksOf(teamId)).map(Number)).toEqual([installationId]);
        expect(await countRows(db(), "installations")).toBeGreaterThan(0);
      },
    };
  }

  /** A commit of one file to a new branch of org-N/widgets; the fault is on one git data call. */
  async function arrangeCommit(gitCall: "blobs" | "trees" | "commits" | "refs", fault: GithubFault, times: number): Promise<Arranged> {
    const { teamId, member, installationId, account } = await teamWithOrgInstallation();
    const token = newInstallationToken();
    const mint = nockInstallationToken(installationId, token);
    const broken = nockFault({ method: "POST", path: `/repos/${account.login}/widgets/git/${gitCall}`, authorization: tokenHeader(token) }, fault, times);
    // Registered after the fault: the repository answers the call only once the fault is spent.
    const repo = nockRepository({ owner: account.login, repo: "widgets", token, branches: { main: BASE } });
    return {
      send: () => api(member, "POST", `/api/teams/${teamId}/repositories/${account.login}/widgets/commits`, {
        branch: "faults",
        message: "Survive GitHub's bad day",
        files: [{ path: "FAULTS.md", content: "# GitHub faults\n" }],
      }),
      fault: broken,
      retried: () => repo.callsTo(`POST /git/${gitCall}`).length > 0,
      rest: [mint.scope],
      async succeeded(hop) {
        expect(hop.status).toBe(201);
        const sha = (hop.body as { sha: string }).sha;
        expect(repo.refs.get("faults")).toBe(sha);
        expect(repo.filesAt(sha)["FAULTS.md"]?.toString()).toBe("# GitHub faults\n");
      },
      async untouched() {
        // No branch, no moved ref: at worst unreferenced blobs, trees or commits, which git collects.
        expect(Object.fromEntries(repo.refs)).toEqual({ main: BASE });
        expect(repo.calls.filter((c) => c.path.startsWith("/git/refs"))).toEqual([]);
      },
    };
  }

  const CALLS: Record<CallKey, { name: string; arrange(fault: GithubFault, times: number): Promise<Arranged> }> = {
    available: {
      name: "GET /user/installations for GET /api/teams/:teamId/installations/available",
      async arrange(fault, times) {
        const { teamId, member } = await teamMember("member");
        const broken = nockFault({ method: "GET", path: "/user/installations", authorization: tokenHeader(member.tokens.token) }, fault, times);
        const listing = nockUserInstallations(member.tokens.token, []);
        return {
          send: () => api(member, "GET", `/api/teams/${teamId}/installations/available`),
          fault: broken,
          retried: () => listing.isDone(),
          rest: [],
          async succeeded(hop) {
            expect(hop.status).toBe(200);
            expect(hop.body).toEqual({ installations: [], installUrl: expect.stringContaining(`/apps/${APP_SLUG}/installations/new?state=`) });
          },
        };
      },
    },
    linkInstallations: {
      name: "GET /user/installations for POST /api/teams/:teamId/installations",
      arrange: (fault, times) => arrangeLink("installations", fault, times),
    },
    linkMembership: {
      name: "GET /user/memberships/orgs/{org} for POST /api/teams/:teamId/installations",
      arrange: (fault, times) => arrangeLink("membership", fault, times),
    },
    linkAppInstallation: {
      name: "GET /app/installations/{id} (app JWT) for POST /api/teams/:teamId/installations of an installation Octoplex has not seen",
      arrange: (fault, times) => arrangeLink("app", fault, times),
    },
    repoMint: {
      name: "POST /app/installations/{id}/access_tokens (the token mint) for POST /api/teams/:teamId/repositories",
      async arrange(fault, times) {
        const { teamId, member, installationId, account } = await teamWithOrgInstallation();
        const broken = nockFault({ method: "POST", path: `/app/installations/${installationId}/access_tokens`, authorization: isAppJwt }, fault, times);
        const mint = nockInstallationToken(installationId);
        const created = nock(GITHUB_API).post(`/orgs/${account.login}/repos`).matchHeader("authorization", tokenHeader(mint.token)).reply(201, createdRepository(account.login, "widgets"));
        return {
          send: () => api(member, "POST", `/api/teams/${teamId}/repositories`, { installationId, name: "widgets" }),
          fault: broken,
          retried: () => mint.scope.isDone(),
          rest: [created],
          async succeeded(hop) {
            expect(hop.status).toBe(201);
            expect(hop.body).toEqual({ fullName: `${account.login}/widgets`, htmlUrl: `https://github.com/${account.login}/widgets`, defaultBranch: "main" });
          },
          async untouched() {
            expect(created.isDone()).toBe(false);
            // No token cached for it, and the mint lease let go (checked with the whole database).
            expect(await db()("installation_tokens").where({ installation_id: installationId }).count({ n: "*" }).then((r) => Number(r[0].n))).toBe(0);
          },
        };
      },
    },
    repoOrg: {
      name: "POST /orgs/{org}/repos for POST /api/teams/:teamId/repositories",
      async arrange(fault, times) {
        const { teamId, member, installationId, account } = await teamWithOrgInstallation();
        const mint = nockInstallationToken(installationId);
        const call = { method: "POST", path: `/orgs/${account.login}/repos`, authorization: tokenHeader(mint.token) } as const;
        const broken = nockFault(call, fault, times);
        const created = nock(GITHUB_API).post(call.path).matchHeader("authorization", call.authorization).reply(201, createdRepository(account.login, "widgets"));
        return {
          send: () => api(member, "POST", `/api/teams/${teamId}/repositories`, { installationId, name: "widgets" }),
          fault: broken,
          retried: () => created.isDone(),
          rest: [mint.scope],
          async succeeded(hop) {
            expect(hop.status).toBe(201);
            expect((hop.body as { fullName: string }).fullName).toBe(`${account.login}/widgets`);
          },
        };
      },
    },
    repoUser: {
      name: "POST /user/repos (the caller's own account) for POST /api/teams/:teamId/repositories",
      async arrange(fault, times) {
        const user = newUser();
        const installationId = nextInstallationId();
        const { teamId } = await teamWithInstallation(server().deps, installationId, { id: user.id, login: user.login, type: "User", avatarUrl: null });
        const member = await signedInMember(server().deps, user, teamId);
        const call = { method: "POST", path: "/user/repos", authorization: tokenHeader(member.tokens.token) } as const;
        const broken = nockFault(call, fault, times);
        const created = nock(GITHUB_API).post(call.path).matchHeader("authorization", call.authorization).reply(201, createdRepository(user.login, "notes"));
        return {
          send: () => api(member, "POST", `/api/teams/${teamId}/repositories`, { installationId, name: "notes" }),
          fault: broken,
          retried: () => created.isDone(),
          rest: [],
          async succeeded(hop) {
            expect(hop.status).toBe(201);
            expect((hop.body as { fullName: string }).fullName).toBe(`${user.login}/notes`);
          },
        };
      },
    },
    commitBlobs: { name: "POST /repos/{owner}/{repo}/git/blobs for POST …/commits", arrange: (f, t) => arrangeCommit("blobs", f, t) },
    commitTrees: { name: "POST /repos/{owner}/{repo}/git/trees for POST …/commits", arrange: (f, t) => arrangeCommit("trees", f, t) },
    commitCommits: { name: "POST /repos/{owner}/{repo}/git/commits for POST …/commits", arrange: (f, t) => arrangeCommit("commits", f, t) },
    commitRefs: { name: "POST /repos/{owner}/{repo}/git/refs for POST …/commits", arrange: (f, t) => arrangeCommit("refs", f, t) },
    signInUser: {
      name: "GET /user (after the code exchange) for GET /auth/callback",
      async arrange(fault, times) {
        const user = newUser();
        const tokens = newTokens();
        const state = await startSignIn();
        const code = `code-${user.id}`;
        const exchange = nockCodeExchange(code, tokens);
        const broken = nockFault({ method: "GET", path: "/user", authorization: tokenHeader(tokens.token) }, fault, times);
        const identity = nockGetUser(tokens.token, user);
        return {
          send: () => callback(code, state),
          fault: broken,
          retried: () => identity.isDone(),
          rest: [exchange],
          async succeeded(hop) {
            expect({ status: hop.status, location: hop.location }).toEqual({ status: 302, location: "/teams" });
            expect(hop.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(true);
            expect((await db()("github_users").pluck("id")).map(Number)).toContain(user.id);
          },
        };
      },
    },
  };

return { calls: CALLS, api, newUser, startSignIn, callback };
}
