import nock from "nock";
import { createTokenCipher } from "../../../src/crypto/token-cipher";
import { createDeps } from "../../../src/deps";
import { githubRepository, installationEvent } from "../../fixtures/payloads";
import { newClassicInstallationToken, newInstallationToken } from "../../fixtures/tokens";
import { testConfig } from "../../helpers/config";
import { findSecretsInDatabase } from "../../helpers/database-scan";
import { countRows, seedInstallation } from "../../helpers/factories";
import { jwtClaims, nockInstallationToken, tokenHeader } from "../../helpers/github-app";
import { GITHUB_API } from "../../helpers/github-oauth";
import { captureLogger } from "../../helpers/log-capture";
import { installationIds } from "../../helpers/team-access";
import { describeEachServer } from "../../helpers/test-server";
import { TestOctokit } from "../../helpers/test-octokit";

const ACME = { id: 9001, login: "acme", type: "Organization" as const };

/** GET /repos/acme/widgets, answered only for `token`. */
const nockRepoGet = (token: string, times = 1) =>
  nock(GITHUB_API).get("/repos/acme/widgets").matchHeader("authorization", tokenHeader(token)).times(times).reply(200, githubRepository({ id: 1, name: "widgets" }));

describeEachServer("installation tokens", ({ server, db }) => {
  // The server's token cache outlives a test's tables: every test acts on an installation of its own.
  const nextInstallationId = installationIds(73001);

  /** One API call as the installation, through the server's own Probot (and so its token cache). */
  async function callAs(installationId: number) {
    const octokit = await server().deps.probot!.auth(installationId);
    return octokit.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
  }

  test("a JWT GitHub refuses for clock skew ('iat' … must be … in the past) is signed again on GitHub's clock, and the call succeeds", async () => {
    const installationId = nextInstallationId();
    // GitHub's clock is two minutes behind ours: our JWT was issued in its future.
    const githubNow = new Date(Date.now() - 120_000);
    const refusedJwts: string[] = [];
    const refused = nock(GITHUB_API)
      .post(`/app/installations/${installationId}/access_tokens`)
      .reply(function () {
        refusedJwts.push(String(this.req.headers.authorization));
        return [
          401,
          { message: "'Issued at' claim ('iat') must be an Integer representing a time in the past", documentation_url: "https://docs.github.com/rest" },
          { date: githubNow.toUTCString() },
        ];
      });
    const mint = nockInstallationToken(installationId);
    const api = nockRepoGet(mint.token);

    const res = await callAs(installationId);

    expect(res.status).toBe(200);
    expect(refused.isDone()).toBe(true);
    expect(mint.scope.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
    // The second JWT was issued on GitHub's clock.
    const skew = jwtClaims(refusedJwts[0]).iat - jwtClaims(mint.authorizations[0]).iat;
    expect(skew).toBeGreaterThanOrEqual(118);
    expect(skew).toBeLessThanOrEqual(122);
  });

  test("the same holds for GitHub's older wording ('… the time that the assertion was issued')", async () => {
    const installationId = nextInstallationId();
    nock(GITHUB_API)
      .post(`/app/installations/${installationId}/access_tokens`)
      .reply(
        401,
        { message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued" },
        { date: new Date(Date.now() - 120_000).toUTCString() },
      );
    const mint = nockInstallationToken(installationId);
    nockRepoGet(mint.token);

    expect((await callAs(installationId)).status).toBe(200);
    expect(mint.scope.isDone()).toBe(true);
  });

  test("an installation token is minted once and reused, in this process and by another one on the same database", async () => {
    const installationId = nextInstallationId();
    const mint = nockInstallationToken(installationId);
    const api = nockRepoGet(mint.token, 3);

    await callAs(installationId);
    await callAs(installationId);
    // A second process: its own Probot and memory, the same database.
    const other = createDeps(testConfig(server().database.config), { Octokit: TestOctokit, log: captureLogger() });
    try {
      await (await other.probot!.auth(installationId)).request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    } finally {
      await other.close();
    }

    expect(mint.scope.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
  });

  test.each([
    ["answers 502", 502, { message: "Server Error" }],
    ["refuses a suspended installation (403)", 403, { message: "This installation has been suspended" }],
  ])("a mint GitHub %s lets go of the mint lease: the next call (in any process) mints without waiting", async (_what, status, body) => {
    const installationId = nextInstallationId();
    nock(GITHUB_API).post(`/app/installations/${installationId}/access_tokens`).reply(status, body);
    await expect(callAs(installationId)).rejects.toMatchObject({ status });
    expect(await countRows(db(), "installation_token_leases")).toBe(0);

    const mint = nockInstallationToken(installationId);
    nockRepoGet(mint.token);
    const started = Date.now();
    expect((await callAs(installationId)).status).toBe(200);
    // A lease left behind would have kept it waiting for the token another process "was minting" (10 s).
    expect(Date.now() - started).toBeLessThan(2000);
    expect(mint.scope.isDone()).toBe(true);
  });

  test("the database holds installation tokens only encrypted", async () => {
    const installationId = nextInstallationId();
    const mint = nockInstallationToken(installationId);
    nockRepoGet(mint.token);

    await callAs(installationId);

    const rows = await db()("installation_tokens").select("*");
    expect(rows).toHaveLength(1);
    expect(await findSecretsInDatabase(db(), [mint.token, "ghs_"])).toEqual([]);
    // …and the encrypted value is the token, for this cache key only.
    const cipher = createTokenCipher(server().deps.config.tokenEncryptionKeys!);
    const key = rows[0].cache_key as string;
    expect(key).toBe(String(installationId));
    expect(cipher.decrypt(rows[0].value_encrypted as string, `installation_tokens:${key}`).split("|")[0]).toBe(mint.token);
  });

  test.each([
    ["GitHub's current format (ghs_<app id>_<JWT>, about 520 characters)", () => newInstallationToken()],
    ["the classic format (ghs_ and 36 characters)", () => newClassicInstallationToken()],
  ])("an installation token in %s is stored whole and another process uses it as minted", async (_format, token) => {
    const installationId = nextInstallationId();
    const mint = nockInstallationToken(installationId, token());
    const api = nockRepoGet(mint.token, 2);

    await callAs(installationId);
    const other = createDeps(testConfig(server().database.config), { Octokit: TestOctokit, log: captureLogger() });
    try {
      await (await other.probot!.auth(installationId)).request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    } finally {
      await other.close();
    }

    // One mint: the second process read the token back from the database, all of it.
    expect(mint.scope.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
  });

  test.each([
    ["installation.suspend", "suspend"],
    ["installation.deleted", "deleted"],
  ] as const)("%s drops the installation's stored tokens, and no other installation's", async (_name, action) => {
    const [gone, kept] = [nextInstallationId(), nextInstallationId()];
    for (const id of [gone, kept]) {
      await seedInstallation(db(), id, { account: { ...ACME, avatarUrl: null } });
      const mint = nockInstallationToken(id);
      nockRepoGet(mint.token);
      await callAs(id);
    }
    expect(await countRows(db(), "installation_tokens")).toBe(2);

    const payload = installationEvent(action, {
      id: gone,
      account: ACME,
      updatedAt: "2026-11-21T10:00:00Z",
      ...(action === "suspend" ? { suspendedAt: "2026-11-21T10:00:00Z", suspendedBy: "owner" } : {}),
    });
    expect((await server().sendWebhook("installation", payload)).status).toBe(200);

    expect(await db()("installation_tokens").pluck("installation_id").then((ids) => ids.map(Number))).toEqual([kept]);
  });

  test("after installation.suspend and unsuspend another process mints a new token instead of using the dropped one", async () => {
    const installationId = nextInstallationId();
    await seedInstallation(db(), installationId, { account: { ...ACME, avatarUrl: null } });
    const first = nockInstallationToken(installationId);
    nockRepoGet(first.token);
    await callAs(installationId);

    const suspended = { id: installationId, account: ACME, suspendedAt: "2026-11-21T10:00:00Z", suspendedBy: "owner", updatedAt: "2026-11-21T10:00:00Z" };
    expect((await server().sendWebhook("installation", installationEvent("suspend", suspended))).status).toBe(200);
    const active = { id: installationId, account: ACME, updatedAt: "2026-11-21T11:00:00Z" };
    expect((await server().sendWebhook("installation", installationEvent("unsuspend", active))).status).toBe(200);

    const second = nockInstallationToken(installationId, newInstallationToken());
    const api = nockRepoGet(second.token);
    const other = createDeps(testConfig(server().database.config), { Octokit: TestOctokit, log: captureLogger() });
    try {
      await (await other.probot!.auth(installationId)).request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "widgets" });
    } finally {
      await other.close();
    }
    expect(second.scope.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
  });
});
