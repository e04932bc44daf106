import nock from "nock";
import { ProbotOctokit } from "probot";
import { SESSION_COOKIE } from "../../src/http/session-cookie";
import { errorCode, Hop } from "../helpers/browser";
import { snapshotDatabase } from "../helpers/database-snapshot";
import { countRows, seedTeams } from "../helpers/factories";
import { recordUnexpectedGithubCalls, UnexpectedGithubCalls } from "../helpers/github-app";
import { faults, GithubFault, nockFault } from "../helpers/github-faults";
import { GITHUB_WEB, newTokens, nockRefresh } from "../helpers/github-oauth";
import { signedInMember } from "../helpers/team-access";
import { runAlone } from "../helpers/run-alone";
import { describeEachServer } from "../helpers/test-server";
import { APP_SLUG, Arranged, CallKey, githubCalls, nockUserInstallations } from "./github-calls";

// Starts no process, but its worker holds every route's GitHub faults (about 360 MB): beside
// Chromium it took the suite past its memory budget, so it takes its turn with those files.
runAlone();

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

describeEachServer(
  "GitHub faults under every outbound call",
  ({ server, db }) => {
    const { calls: CALLS, api, newUser, startSignIn, callback } = githubCalls({ server, db });
    let github: UnexpectedGithubCalls;

    beforeEach(() => {
      github = recordUnexpectedGithubCalls();
    });
    afterEach(() => github.stop());

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
