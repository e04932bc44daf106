import nock from "nock";
import { createdRepository } from "../fixtures/payloads";
import { ProbotOctokit } from "probot";
import { LOGIN_STATE_COOKIE, SESSION_COOKIE } from "../../src/http/session-cookie";
import type { InstallationSnapshot } from "../../src/repositories/installations";
import { errorCode, Hop, request } from "../helpers/browser";
import { snapshotDatabase } from "../helpers/database-snapshot";
import { countRows, seedInstallation, seedTeams } from "../helpers/factories";
import { isAppJwt, newInstallationToken, nockInstallationToken, recordUnexpectedGithubCalls, tokenHeader, UnexpectedGithubCalls } from "../helpers/github-app";
import { faults, GithubFault, nockFault, NockedFault } from "../helpers/github-faults";
import { GITHUB_API, GITHUB_WEB, newTokens, nockCodeExchange, nockGetUser, nockRefresh, TestUser } from "../helpers/github-oauth";
import { nockRepository } from "../helpers/nock-repository";
import { installationIds, SignedInMember, signedInMember, teamWithInstallation } from "../helpers/team-access";
import { describeEachServer } from "../helpers/test-server";

/**
 * GitHub failing under each outbound call of the HTTP API, against the app's own GitHub client:
 * ProbotOctokit through createDeps, so the retry plugin (3 retries after 1, 4 and 9 s) and the
 * throttle plugin (Probot's policy for the app and installations; Octoplex's for user tokens) run
 * as in production. The only knob turned is the per-call timeout (createDeps' githubTimeoutMs),
 * so that a hung GitHub costs 1 s an attempt here instead of 10. Calls that share a fault run
 * concurrently, each on its own user, installation and organization, to keep the file short:
 * the backoff alone is 14 s for a call that keeps failing.
 */
const TIMEOUT_MS = 1000;
/** A GitHub that answers this late is hung, as far as the client is concerned. */
const HUNG_MS = 5000;
const ATTEMPTS = 4; // the first, and the retry plugin's 3
const BASE = "1111111111111111111111111111111111111111";
const APP_SLUG = "octoplex";

interface Arranged {
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

type CallKey =
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

interface Outcome {
  status: number;
  code: string | undefined;
  message: string;
  attempts: number;
  retried: boolean;
}

/** `{ error: { code, message } }` with a message, as the contract says, and how often GitHub was asked. */
function outcome(hop: Hop, arranged: Arranged): Outcome {
  const message = (hop.body as { error?: { message?: unknown } })?.error?.message;
  return { status: hop.status, code: errorCode(hop.body), message: typeof message, attempts: arranged.fault.requests, retried: arranged.retried() };
}

const unavailable = (status: number, attempts: number): Outcome => ({ status, code: "github_unavailable", message: "string", attempts, retried: false });

/** Every request that went through an interceptor of `scope`. */
function counted(scope: nock.Scope): () => number {
  let n = 0;
  scope.on("request", () => n++);
  return () => n;
}

const githubInstallation = (id: number, account: InstallationSnapshot["account"]) => ({
  id,
  account: { id: account.id, login: account.login, type: account.type, avatar_url: null },
  target_type: account.type,
  repository_selection: "all",
  permissions: { administration: "write", contents: "write", metadata: "read" },
  events: [],
  suspended_at: null,
  suspended_by: null,
  updated_at: "2026-11-01T10:00:00Z",
});


/** GET /user/installations for the holder of `token`. */
const nockUserInstallations = (token: string, installations: unknown[]) =>
  nock(GITHUB_API).get("/user/installations").query(true).matchHeader("authorization", tokenHeader(token)).reply(200, { total_count: installations.length, installations });

/** GET /user/memberships/orgs/:org: the holder of `token` is an active admin. */
const nockAdminMembership = (token: string, org: string) =>
  nock(GITHUB_API).get(`/user/memberships/orgs/${org}`).matchHeader("authorization", tokenHeader(token)).reply(200, { role: "admin", state: "active" });

describeEachServer(
  "GitHub faults under every outbound call",
  ({ server, db }) => {
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
    let github: UnexpectedGithubCalls;

    beforeEach(() => {
      github = recordUnexpectedGithubCalls();
    });
    afterEach(() => github.stop());

    const api = (member: SignedInMember, method: string, path: string, body?: unknown) =>
      request(url(path), {
        method,
        cookie: member.cookie,
        ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });

    /** A new team with `user` (a new one unless given) signed in as its `role`. */
    async function teamMember(role: "admin" | "member", user = newUser()) {
      const [team] = await seedTeams(db(), 1, `team-${user.id}`);
      return { teamId: team.id, member: await signedInMember(server().deps, user, team.id, role) };
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
      const { teamId, member } = await teamMember("admin");
      const token = member.tokens.token;
      const calls = {
        installations: { method: "GET", path: "/user/installations", authorization: tokenHeader(token) },
        membership: { method: "GET", path: `/user/memberships/orgs/${account.login}`, authorization: tokenHeader(token) },
        app: { method: "GET", path: `/app/installations/${installationId}`, authorization: isAppJwt },
      } as const;
      const broken = nockFault(calls[faulty], fault, times);
      const scopes = {
        installations: nockUserInstallations(token, [githubInstallation(installationId, account)]),
        membership: nockAdminMembership(token, account.login),
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

    /** Arranges `plan` (call → fault, times), snapshots the database, sends every request at once. */
    async function runConcurrently(plan: Partial<Record<CallKey, [GithubFault, number]>>) {
      const arranged = {} as Record<CallKey, Arranged>;
      for (const [key, [fault, times]] of Object.entries(plan) as Array<[CallKey, [GithubFault, number]]>) arranged[key] = await CALLS[key].arrange(fault, times);
      const before = await snapshotDatabase(db(), { except: ["oauth_states", "installation_tokens"] });
      const states = await countRows(db(), "oauth_states");
      const started = Date.now();
      const hops = Object.fromEntries(
        await Promise.all(
          (Object.entries(arranged) as Array<[CallKey, Arranged]>).map(async ([key, a]) => {
            const hop = await a.send();
            return [key, { hop, ms: Date.now() - started }] as const;
          }),
        ),
      ) as Record<CallKey, { hop: Hop; ms: number }>;
      const outcomes = Object.fromEntries((Object.entries(arranged) as Array<[CallKey, Arranged]>).map(([key, a]) => [CALLS[key].name, outcome(hops[key].hop, a)]));
      return { arranged, hops, outcomes, before, states };
    }

    const named = (expected: Partial<Record<CallKey, Outcome>>) =>
      Object.fromEntries((Object.entries(expected) as Array<[CallKey, Outcome]>).map(([key, o]) => [CALLS[key].name, o]));

    test(
      "every outbound GitHub call is retried after a transient 500 or 502, and the request then succeeds",
      async () => {
        const keys = Object.keys(CALLS) as CallKey[];
        const plan = Object.fromEntries(keys.map((key, i) => [key, [faults.status(i % 2 ? 500 : 502), 1] as [GithubFault, number]]));
        const { arranged, hops, outcomes } = await runConcurrently(plan);

        // One failed request and one good one each: the retry plugin asked again.
        expect(Object.fromEntries(Object.entries(outcomes).map(([name, o]) => [name, { attempts: o.attempts, retried: o.retried }]))).toEqual(
          Object.fromEntries(keys.map((key) => [CALLS[key].name, { attempts: 1, retried: true }])),
        );
        for (const key of keys) {
          await arranged[key].succeeded(hops[key].hop);
          for (const scope of arranged[key].rest) expect({ key, done: scope.isDone() }).toEqual({ key, done: true });
        }
        expect(await countRows(db(), "installation_token_leases")).toBe(0);
        expect(github.calls).toEqual([]);
      },
      60_000,
    );

    test(
      "every outbound GitHub call that keeps failing (5xx, a dropped connection, no answer within the timeout) answers 502 or 503 github_unavailable after the retries, never 500, and writes nothing",
      async () => {
        const { arranged, hops, outcomes, before, states } = await runConcurrently({
          available: [faults.status(502), ATTEMPTS],
          linkInstallations: [faults.timeout(HUNG_MS), ATTEMPTS],
          linkMembership: [faults.status(500), ATTEMPTS],
          linkAppInstallation: [faults.connection(), ATTEMPTS],
          repoMint: [faults.status(502), ATTEMPTS],
          repoOrg: [faults.timeout(HUNG_MS), ATTEMPTS],
          repoUser: [faults.status(503), ATTEMPTS],
          commitBlobs: [faults.timeout(HUNG_MS), ATTEMPTS],
          commitTrees: [faults.connection(), ATTEMPTS],
          commitCommits: [faults.status(502), ATTEMPTS],
          commitRefs: [faults.status(500), ATTEMPTS],
          signInUser: [faults.status(500), ATTEMPTS],
        });

        // 5xx from GitHub → 502 (503 stays 503); no answer at all → 503. Each after 1 + 3 retries.
        expect(outcomes).toEqual(
          named({
            available: unavailable(502, ATTEMPTS),
            linkInstallations: unavailable(503, ATTEMPTS),
            linkMembership: unavailable(502, ATTEMPTS),
            linkAppInstallation: unavailable(503, ATTEMPTS),
            repoMint: unavailable(502, ATTEMPTS),
            repoOrg: unavailable(503, ATTEMPTS),
            repoUser: unavailable(503, ATTEMPTS),
            commitBlobs: unavailable(503, ATTEMPTS),
            commitTrees: unavailable(503, ATTEMPTS),
            commitCommits: unavailable(502, ATTEMPTS),
            commitRefs: unavailable(502, ATTEMPTS),
            signInUser: unavailable(502, ATTEMPTS),
          }),
        );
        // The timeout bounded each attempt: waiting out GitHub's 5 s four times would take 20 s plus the 14 s of backoff.
        for (const key of ["linkInstallations", "repoOrg", "commitBlobs"] as const) expect({ key, fast: hops[key].ms < ATTEMPTS * HUNG_MS + 14_000 - 3000 }).toEqual({ key, fast: true });

        // Nothing written: no link, installation, repository, user, token, session or lease.
        expect(await snapshotDatabase(db(), { except: ["oauth_states", "installation_tokens"] })).toEqual(before);
        // The sign-in's state is spent (single use, before GitHub is asked) and no other is issued.
        expect(await countRows(db(), "oauth_states")).toBe(states);
        for (const key of Object.keys(arranged) as CallKey[]) await arranged[key].untouched?.();
        expect(github.calls).toEqual([]);
      },
      90_000,
    );

    test(
      "a secondary rate limit on the app's own or an installation's call gives up at once, as Probot configures them: 503 github_unavailable, not 403 or 500, and nothing written",
      async () => {
        const limited = faults.secondaryRateLimit(1);
        const { arranged, outcomes, before } = await runConcurrently({
          repoMint: [limited, 1],
          repoOrg: [limited, 1],
          commitBlobs: [limited, 1],
          linkAppInstallation: [limited, 1],
        });

        expect(outcomes).toEqual(
          named({
            repoMint: unavailable(503, 1),
            repoOrg: unavailable(503, 1),
            commitBlobs: unavailable(503, 1),
            linkAppInstallation: unavailable(503, 1),
          }),
        );
        expect(await snapshotDatabase(db(), { except: ["oauth_states", "installation_tokens"] })).toEqual(before);
        for (const key of Object.keys(arranged) as CallKey[]) await arranged[key].untouched?.();
      },
      30_000,
    );

    test(
      "a secondary rate limit on a user-token call is waited out once (retry-after: 1) and the request succeeds",
      async () => {
        const limited = faults.secondaryRateLimit(1);
        const { arranged, hops, outcomes } = await runConcurrently({ available: [limited, 1], repoUser: [limited, 1], signInUser: [limited, 1] });

        expect(Object.values(outcomes).map((o) => ({ attempts: o.attempts, retried: o.retried }))).toEqual([
          { attempts: 1, retried: true },
          { attempts: 1, retried: true },
          { attempts: 1, retried: true },
        ]);
        for (const key of Object.keys(arranged) as CallKey[]) {
          await arranged[key].succeeded(hops[key].hop);
          // The throttle plugin waited what GitHub asked before asking again.
          expect({ key, waited: hops[key].ms >= 1000 }).toEqual({ key, waited: true });
        }
      },
      30_000,
    );

    test(
      "a user-token call still rate limited after its one wait answers 503 github_unavailable: an org admin is not refused as a non-member, and nothing is linked",
      async () => {
        const limited = faults.secondaryRateLimit(1);
        const { arranged, outcomes, before } = await runConcurrently({ available: [limited, 2], linkMembership: [limited, 2] });

        expect(outcomes).toEqual(named({ available: unavailable(503, 2), linkMembership: unavailable(503, 2) }));
        const [first, second] = arranged.linkMembership.fault.arrivals;
        expect(second - first).toBeGreaterThanOrEqual(950);
        expect(await snapshotDatabase(db(), { except: ["oauth_states", "installation_tokens"] })).toEqual(before);
      },
      30_000,
    );

    test("GET /auth/callback: the OAuth code exchange is not retried; a 502 from GitHub answers 502 github_unavailable and stores no user, token or session", async () => {
      const state = await startSignIn();
      const before = await snapshotDatabase(db(), { except: ["oauth_states"] });
      const exchange = nockFault(
        { origin: GITHUB_WEB, method: "POST", path: "/login/oauth/access_token", body: (b) => b.code === "code-x" },
        faults.status(502),
        ATTEMPTS,
      );

      const hop = await callback("code-x", state);

      expect({ status: hop.status, code: errorCode(hop.body), attempts: exchange.requests }).toEqual({ status: 502, code: "github_unavailable", attempts: 1 });
      expect(hop.setCookies.filter((c) => c.startsWith(`${SESSION_COOKIE}=`))).toEqual([]);
      expect(await snapshotDatabase(db(), { except: ["oauth_states"] })).toEqual(before);
    });

    test("a token refresh GitHub fails (502, then a dropped connection) answers github_unavailable and keeps the stored pair; once GitHub answers, the same refresh token renews it", async () => {
      const [team] = await seedTeams(db(), 1, "refreshing");
      // Less than the five-minute margin left: the next call refreshes first.
      const member = await signedInMember(server().deps, newUser(), team.id, "member", { expiresInMs: 60_000 });
      const available = () => api(member, "GET", `/api/teams/${team.id}/installations/available`);
      const refresh = { origin: GITHUB_WEB, method: "POST", path: "/login/oauth/access_token", body: (b: Record<string, unknown>) => b.refresh_token === member.tokens.refreshToken } as const;
      const before = await snapshotDatabase(db());

      for (const [fault, status] of [
        [faults.status(502), 502],
        [faults.connection(), 503],
      ] as const) {
        const failing = nockFault(refresh, fault, ATTEMPTS);
        const hop = await available();
        expect({ status: hop.status, code: errorCode(hop.body), attempts: failing.requests }).toEqual({ status, code: "github_unavailable", attempts: 1 });
        expect(await snapshotDatabase(db())).toEqual(before);
        nock.cleanAll();
      }

      const renewed = newTokens();
      const refreshed = nockRefresh(member.tokens.refreshToken, renewed);
      const listing = nockUserInstallations(renewed.token, []);
      expect((await available()).status).toBe(200);
      expect(refreshed.isDone()).toBe(true);
      expect(listing.isDone()).toBe(true);
    });
  },
  { env: { APP_SLUG }, overrides: { Octokit: ProbotOctokit, githubTimeoutMs: TIMEOUT_MS } },
);
