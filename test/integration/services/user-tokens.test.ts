import nock from "nock";
import { createTokenCipher } from "../../../src/crypto/token-cipher";
import { ReauthorizationRequired } from "../../../src/errors";
import { findGithubUser } from "../../../src/repositories/github-users";
import { findUserToken } from "../../../src/repositories/user-tokens";
import { refreshContext } from "../../../src/services/identity/user-tokens";
import { cookiePair, errorCode, request } from "../../helpers/browser";
import { TEST_CLIENT_ID, testConfig } from "../../helpers/config";
import { GITHUB_API, GITHUB_WEB, newTokens, nockRefresh, nockRefreshRejected } from "../../helpers/github-oauth";
import { describeEachServer } from "../../helpers/test-server";
import { ALICE, seedSignedInUser } from "../../helpers/users";

const EXPIRING_SOON = 60_000; // inside the five-minute margin: the next get() refreshes

describeEachServer("user tokens", ({ server, db }) => {
  const userTokens = () => server().deps.services.auth!.userTokens;
  const cipher = () => createTokenCipher(testConfig(server().database.config).tokenEncryptionKeys!);

  async function storedRefreshToken(userId: number): Promise<string | null> {
    const row = await findUserToken(db(), userId);
    return row?.refreshTokenEncrypted ? cipher().decrypt(row.refreshTokenEncrypted, refreshContext(userId)) : null;
  }

  test("a token with more than five minutes left is returned without asking GitHub", async () => {
    const tokens = await seedSignedInUser(server().deps, ALICE);
    // nock has no interceptor: any GitHub call would fail the test.
    expect(await userTokens().get(ALICE.id)).toBe(tokens.token);
  });

  test("a non-expiring token (expiration opted out) is returned as it is", async () => {
    const tokens = await seedSignedInUser(server().deps, ALICE, { expiresInMs: null });
    expect(await userTokens().get(ALICE.id)).toBe(tokens.token);
  });

  test("50 concurrent calls for an expiring token make exactly one refresh, and all get the new token", async () => {
    const old = await seedSignedInUser(server().deps, ALICE, { expiresInMs: EXPIRING_SOON });
    const fresh = newTokens();
    // A second interceptor for the same refresh token would catch a second refresh.
    const refresh = nockRefresh(old.refreshToken, fresh, { delayMs: 50 });
    const extra = nockRefresh(old.refreshToken, newTokens());

    const results = await Promise.all(Array.from({ length: 50 }, () => userTokens().get(ALICE.id)));

    expect(new Set(results)).toEqual(new Set([fresh.token]));
    expect(refresh.isDone()).toBe(true);
    expect(extra.isDone()).toBe(false);
    expect(await storedRefreshToken(ALICE.id)).toBe(fresh.refreshToken);
    // The next call uses the stored new token.
    expect(await userTokens().get(ALICE.id)).toBe(fresh.token);
  });

  test("a dead refresh token means reauthorization: tokens deleted, user marked, and the next call asks GitHub nothing", async () => {
    const old = await seedSignedInUser(server().deps, ALICE, { expiresInMs: EXPIRING_SOON });
    const github = nockRefreshRejected(old.refreshToken);

    await expect(userTokens().get(ALICE.id)).rejects.toBeInstanceOf(ReauthorizationRequired);
    expect(github.isDone()).toBe(true);
    expect(await findUserToken(db(), ALICE.id)).toBeUndefined();
    expect((await findGithubUser(db(), ALICE.id))?.reauthorizationRequiredAt).toBeInstanceOf(Date);

    // No interceptor left: a second GitHub call would fail with a network error instead.
    await expect(userTokens().get(ALICE.id)).rejects.toBeInstanceOf(ReauthorizationRequired);
  });

  test("an expired refresh token means reauthorization without asking GitHub", async () => {
    await seedSignedInUser(server().deps, ALICE, { expiresInMs: EXPIRING_SOON, refreshExpiresInMs: -1000 });
    await expect(userTokens().get(ALICE.id)).rejects.toBeInstanceOf(ReauthorizationRequired);
    expect(await findUserToken(db(), ALICE.id)).toBeUndefined();
  });

  test("GitHub failing during a refresh keeps the stored pair and answers github_unavailable", async () => {
    const old = await seedSignedInUser(server().deps, ALICE, { expiresInMs: EXPIRING_SOON });
    nock(GITHUB_WEB).post("/login/oauth/access_token").reply(500, "oops");
    await expect(userTokens().get(ALICE.id)).rejects.toMatchObject({ code: "github_unavailable" });
    expect(await storedRefreshToken(ALICE.id)).toBe(old.refreshToken);
  });

  test("a token GitHub says is revoked (checkToken 404) is forgotten and the user must sign in again", async () => {
    const tokens = await seedSignedInUser(server().deps, ALICE);
    const check = nock(GITHUB_API)
      .post(`/applications/${TEST_CLIENT_ID}/token`, (body: { access_token?: string }) => body.access_token === tokens.token)
      .reply(404, { message: "Not Found" });
    await expect(userTokens().verifyAfterUnauthorized(ALICE.id)).rejects.toBeInstanceOf(ReauthorizationRequired);
    expect(check.isDone()).toBe(true);
    expect(await findUserToken(db(), ALICE.id)).toBeUndefined();
  });

  test("GET /api/me says reauthorization_required once the grant is dead", async () => {
    const old = await seedSignedInUser(server().deps, ALICE, { expiresInMs: EXPIRING_SOON });
    const session = await server().deps.services.auth!.sessions.create(ALICE.id);
    nockRefreshRejected(old.refreshToken);
    await userTokens().get(ALICE.id).catch(() => undefined);

    const me = await request(`${server().url}/api/me`, { cookie: cookiePair(`octoplex_session=${session.id}`) });
    expect(me.status).toBe(200);
    expect((me.body as { authorization: string }).authorization).toBe("reauthorization_required");
  });

  test("an API key acting for a user who never signed in gets 401 reauthorization_required with a loginUrl", async () => {
    const { key } = await server().deps.services.apiKeys.create("platform");
    const me = await request(`${server().url}/api/me`, { headers: { authorization: `Bearer ${key}`, "x-octoplex-user": "999999" } });
    expect(me.status).toBe(401);
    expect(errorCode(me.body)).toBe("reauthorization_required");
    expect((me.body as { error: { loginUrl: string } }).error.loginUrl).toMatch(/^\/auth\/login\?return_to=/);
  });
});
