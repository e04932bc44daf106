import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import nock from "nock";
import { testPrivateKey } from "../fixtures/keys";
import { githubApp } from "../fixtures/github-objects";
import { createdRepository, installationEvent } from "../fixtures/payloads";
import { request } from "../helpers/browser";
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET, TEST_KEY_K1, TEST_SESSION_SECRET, TEST_WEBHOOK_SECRET } from "../helpers/config";
import { findSecretsInDatabase } from "../helpers/database-scan";
import { nockInstallationToken, tokenHeader } from "../helpers/github-app";
import { GITHUB_API, newTokens, nockCodeExchange, nockCodeRejected, nockGetUser, nockRefresh, nockRefreshRejected } from "../helpers/github-oauth";
import { createLogger } from "../../src/logger";
import { LOG_DIR_ENV } from "../helpers/log-capture";
import { findSecrets } from "../helpers/secret-patterns";
import { addTeamMember } from "../../src/repositories/teams";
import { countRows, NOW } from "../helpers/factories";
import { signedInMember, teamWithInstallation } from "../helpers/team-access";
import { describeEachServer, sign } from "../helpers/test-server";
import { ALICE, BOB, seedSignedInUser } from "../helpers/users";

const ACME = { id: 9001, login: "acme", type: "Organization", avatarUrl: null };
const CAROL = { id: 5003, login: "carol" };

/**
 * Every kind of secret Octoplex handles goes through the server here, on the paths where a leak
 * would happen (sign-in, a refused code, refresh, a dead refresh token, installation tokens, a
 * GitHub error carrying the request, API keys, logout with revoke, hostile webhooks). Then the
 * server's own log (the app's logger with its redaction, at trace level) and every table are
 * searched for each of those exact values. The global teardown scans the whole suite's logs by pattern.
 */
describeEachServer("secrets stay out of logs and the database", ({ server, db }) => {
  const url = (path: string) => `${server().url}${path}`;
  /** Every secret value the flows below used, by name. */
  const used = new Map<string, string>();
  const remember = (name: string, value: string) => (used.set(name, value), value);
  /** The answer to a request GitHub refused with a 400: a 500 is logged with the error, which holds the request. */
  let refusedByGithub = 0;

  beforeAll(() => {
    remember("client secret", TEST_CLIENT_SECRET);
    remember("session secret", TEST_SESSION_SECRET);
    remember("webhook secret", TEST_WEBHOOK_SECRET);
    remember("token encryption key", TEST_KEY_K1.split(":")[1]);
    // A line from the middle of the PEM: the key in any encoding that keeps its base64.
    remember("private key", testPrivateKey().split("\n")[10]);
  });

  test("sign-in, refresh, installation tokens, API keys, webhooks and logout leave no plaintext secret in any table", async () => {
    const deps = server().deps;

    // Sign-in: the code, the token pair, the state and the session id.
    const login = await request(url("/auth/login?return_to=/"));
    const state = remember("state", new URL(login.location!).searchParams.get("state")!);
    const code = remember("code", `code-${Math.random().toString(36).slice(2)}-secretcode`);
    const aliceTokens = newTokens();
    remember("Alice's token", aliceTokens.token);
    remember("Alice's refresh token", aliceTokens.refreshToken);
    nockCodeExchange(code, aliceTokens);
    nockGetUser(aliceTokens.token, ALICE);
    const signedIn = await request(url(`/auth/callback?code=${code}&state=${encodeURIComponent(state)}`), { cookie: `octoplex_login_state=${state}` });
    expect(signedIn.status).toBe(302);
    const aliceCookie = signedIn.setCookies.find((c) => c.startsWith("octoplex_session="))!.split(";")[0];
    remember("Alice's session id", aliceCookie.split("=")[1]);

    // The same code again: GitHub refuses it.
    const again = await request(url("/auth/login?return_to=/"));
    const againState = new URL(again.location!).searchParams.get("state")!;
    nockCodeRejected(code);
    expect((await request(url(`/auth/callback?code=${code}&state=${encodeURIComponent(againState)}`), { cookie: `octoplex_login_state=${againState}` })).status).toBe(400);

    // A team with acme's installation; Alice is its admin, Bob and Carol members.
    const { teamId, installation } = await teamWithInstallation(deps, 74001, ACME);
    await addTeamMember(deps.db, teamId, ALICE.id, "admin", NOW);

    // Bob's token is about to expire: his next call refreshes it.
    const bob = await signedInMember(deps, BOB, teamId);
    remember("Bob's old token", bob.tokens.token);
    remember("Bob's old refresh token", bob.tokens.refreshToken);
    await seedSignedInUser(deps, BOB, { tokens: bob.tokens, expiresInMs: 60_000 });
    const bobNew = newTokens();
    remember("Bob's new token", bobNew.token);
    remember("Bob's new refresh token", bobNew.refreshToken);
    nockRefresh(bob.tokens.refreshToken, bobNew);
    nock(GITHUB_API).get("/user/installations").query(true).matchHeader("authorization", tokenHeader(bobNew.token)).reply(200, { total_count: 0, installations: [] });
    nock(GITHUB_API).get("/app").reply(200, githubApp({ name: "Octoplex" }));
    const available = await request(url(`/api/teams/${teamId}/installations/available`), { cookie: bob.cookie });
    expect(available.status).toBe(200);
    remember("install state", new URL((available.body as { installUrl: string }).installUrl).searchParams.get("state")!);

    // Carol's refresh token is dead: she must sign in again.
    const carol = await signedInMember(deps, CAROL, teamId);
    await seedSignedInUser(deps, CAROL, { tokens: carol.tokens, expiresInMs: 60_000 });
    remember("Carol's token", carol.tokens.token);
    remember("Carol's refresh token", carol.tokens.refreshToken);
    nockRefreshRejected(carol.tokens.refreshToken);
    expect((await request(url(`/api/teams/${teamId}/installations/available`), { cookie: carol.cookie })).status).toBe(401);

    // An installation token, then GitHub refusing a request that carried it (the error holds the request).
    const mint = nockInstallationToken(installation.id);
    remember("installation token", mint.token);
    nock(GITHUB_API).post("/orgs/acme/repos").matchHeader("authorization", tokenHeader(mint.token)).reply(201, createdRepository("acme", "widgets"));
    const create = (name: string) =>
      request(url(`/api/teams/${teamId}/repositories`), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ installationId: installation.id, name }),
        cookie: aliceCookie,
      });
    expect((await create("widgets")).status).toBe(201);
    nock(GITHUB_API)
      .post("/orgs/acme/repos")
      .reply(400, { message: `Problems parsing JSON (you sent token ${mint.token})`, documentation_url: "https://docs.github.com" });
    refusedByGithub = (await create("gadgets")).status;
    expect(refusedByGithub).toBeGreaterThanOrEqual(400);

    // API keys: a working one, a revoked one, one with a bad X-Octoplex-User.
    const { key, apiKey } = await deps.services.apiKeys.create("platform");
    remember("API key", key);
    remember("API key without its prefix", key.slice(4));
    expect((await request(url(`/api/teams/${teamId}/members`), { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await request(url("/api/teams"), { headers: { authorization: `Bearer ${key}`, "x-octoplex-user": "1 OR 1=1" } })).status).toBe(400);
    await deps.services.apiKeys.revoke(apiKey.id);
    expect((await request(url("/api/teams"), { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);

    // Hostile webhooks: a wrong signature, and a signed body that is not JSON.
    const body = JSON.stringify(installationEvent("created", { id: 74002 }));
    expect((await server().sendWebhook("installation", JSON.parse(body), { secret: "guessed-secret" })).status).toBe(401);
    const notJson = "{not json";
    const hook = await fetch(url("/api/github/webhooks"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "d-secret", "x-hub-signature-256": sign(notJson) },
      body: notJson,
    });
    expect(hook.status).toBe(400);

    // What the database keeps of all that: hashes and ciphertexts only.
    expect(await findSecretsInDatabase(db(), [...used.values()])).toEqual([]);
    expect(await countRows(db(), "user_tokens")).toBe(2);

    // Logout with revoke: the token goes to GitHub once more, with the client secret.
    nock(GITHUB_API).delete(`/applications/${TEST_CLIENT_ID}/grant`).reply(204);
    expect((await request(url("/auth/logout?revoke=true"), { method: "POST", cookie: aliceCookie })).status).toBe(204);
    expect(await countRows(db(), "user_tokens")).toBe(1);
  });

  test("the server's log holds none of those secrets, by value or by shape", () => {
    const dir = process.env[LOG_DIR_ENV];
    expect(dir).toBeTruthy();
    const file = join(dir!, `${process.pid}.log`);
    expect(existsSync(file)).toBe(true);
    const text = readFileSync(file, "utf8");
    // The capture saw the flows: a scan of nothing proves nothing.
    expect(text).toContain('"msg":"signed in"');
    expect(text).toContain('"msg":"user must sign in again"');
    if (refusedByGithub === 500) expect(text).toContain('"msg":"request failed"');
    const leaks = [...used].filter(([, value]) => text.includes(value)).map(([name]) => name);
    expect(leaks).toEqual([]);
    expect(findSecrets(text)).toEqual([]);
  });
});

describe("the app's logger", () => {
  test("masks a token or API key quoted in free text, such as an upstream error's message and stack", () => {
    const lines: string[] = [];
    const log = createLogger({ logLevel: "trace", logFormat: "json" }, { write: (line: string) => void lines.push(line) });
    const { token, refreshToken } = newTokens();
    const apiKey = `opx_${"k".repeat(43)}`;
    log.error({ err: new Error(`GitHub said: bad credentials ${token}`) }, `refresh ${refreshToken} failed for ${apiKey}`);
    const text = lines.join("");
    expect(text).toContain("ghu_[redacted]");
    expect([token, refreshToken, apiKey].filter((secret) => text.includes(secret))).toEqual([]);
    expect(findSecrets(text)).toEqual([]);
  });
});
