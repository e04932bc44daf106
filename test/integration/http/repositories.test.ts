import nock from "nock";
import { createdRepository } from "../../fixtures/payloads";
import { request } from "../../helpers/browser";
import { nockInstallationToken, recordUnexpectedGithubCalls, tokenHeader, UnexpectedGithubCalls } from "../../helpers/github-app";
import { GITHUB_API } from "../../helpers/github-oauth";
import { expectError } from "../../helpers/http-expect";
import { installationIds, signedInMember, SignedInMember, teamWithInstallation } from "../../helpers/team-access";
import { describeEachServer } from "../../helpers/test-server";
import { ALICE, BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme", type: "Organization", avatarUrl: null };
const ALICE_ACCOUNT = { id: ALICE.id, login: ALICE.login, type: "User", avatarUrl: null };


describeEachServer("POST /api/teams/:teamId/repositories", ({ server }) => {
  // The server's token cache outlives a test's tables: every test acts on an installation of its own.
  const nextInstallationId = installationIds(71001);
  const url = (path: string) => `${server().url}${path}`;
  let github: UnexpectedGithubCalls;

  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  function create(member: SignedInMember | null, teamId: number, body: unknown) {
    return request(url(`/api/teams/${teamId}/repositories`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cookie: member?.cookie,
    });
  }

  /** A team with an installation on `account` and Alice as its member. */
  async function arrange(account = ACME, overrides = {}) {
    const installationId = nextInstallationId();
    const { teamId } = await teamWithInstallation(server().deps, installationId, account, overrides);
    const alice = await signedInMember(server().deps, ALICE, teamId);
    return { installationId, teamId, alice };
  }

  test("on an organization's installation creates the repository as the installation, with a token minted for it", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    let sent: unknown;
    const api = nock(GITHUB_API)
      .post("/orgs/acme/repos", (body) => ((sent = body), true))
      .matchHeader("authorization", tokenHeader(mint.token))
      .reply(201, createdRepository("acme", "widgets"));

    const res = await create(alice, teamId, { installationId, name: "widgets", description: "Widgets", autoInit: true });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ fullName: "acme/widgets", htmlUrl: "https://github.com/acme/widgets", defaultBranch: "main" });
    expect(sent).toEqual({ name: "widgets", private: true, description: "Widgets", auto_init: true });
    expect(mint.scope.isDone()).toBe(true);
    expect(api.isDone()).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test("on the caller's own personal account creates the repository with the caller's user token, minting nothing", async () => {
    const { installationId, teamId, alice } = await arrange(ALICE_ACCOUNT);
    let sent: unknown;
    const api = nock(GITHUB_API)
      .post("/user/repos", (body) => ((sent = body), true))
      .matchHeader("authorization", tokenHeader(alice.tokens.token))
      .reply(201, createdRepository("alice", "notes"));

    const res = await create(alice, teamId, { installationId, name: "notes", private: false });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ fullName: "alice/notes", htmlUrl: "https://github.com/alice/notes", defaultBranch: "main" });
    expect(sent).toEqual({ name: "notes", private: false, auto_init: false });
    expect(api.isDone()).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test("on another member's personal account answers 403 forbidden and calls GitHub not", async () => {
    const { installationId, teamId } = await arrange(ALICE_ACCOUNT);
    const bob = await signedInMember(server().deps, BOB, teamId);

    const res = await create(bob, teamId, { installationId, name: "notes" });

    expectError(res, 403, "forbidden");
    expect(github.calls).toEqual([]);
  });

  test("answers 409 conflict when GitHub says the name already exists on this account", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    nock(GITHUB_API)
      .post("/orgs/acme/repos")
      .matchHeader("authorization", tokenHeader(mint.token))
      .reply(422, {
        message: "Repository creation failed.",
        errors: [{ resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" }],
        documentation_url: "https://docs.github.com/rest/repos/repos#create-an-organization-repository",
      });

    const res = await create(alice, teamId, { installationId, name: "widgets" });

    expectError(res, 409, "conflict");
    expect(github.calls).toEqual([]);
  });

  test("on a suspended installation answers 409 installation_suspended and calls GitHub not", async () => {
    const { installationId, teamId, alice } = await arrange(ACME, { suspendedAt: new Date("2026-11-10T00:00:00Z"), suspendedBy: "owner" });

    const res = await create(alice, teamId, { installationId, name: "widgets" });

    expectError(res, 409, "installation_suspended");
    expect(github.calls).toEqual([]);
  });

  test("with an installation that is not linked to the team answers 404 and calls GitHub not", async () => {
    const { teamId, alice } = await arrange();
    const other = await arrange({ id: 9002, login: "globex", type: "Organization", avatarUrl: null });

    const res = await create(alice, teamId, { installationId: other.installationId, name: "widgets" });

    expectError(res, 404, "not_found");
    expect(github.calls).toEqual([]);
  });

  test("answers 502 github_unavailable when GitHub answers 502", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    nock(GITHUB_API).post("/orgs/acme/repos").matchHeader("authorization", tokenHeader(mint.token)).reply(502, "Bad Gateway");

    const res = await create(alice, teamId, { installationId, name: "widgets" });

    expectError(res, 502, "github_unavailable");
    expect(github.calls).toEqual([]);
  });

  test("answers 502 github_unavailable, not 500, when GitHub refuses the call in a way no rule explains (400)", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    nock(GITHUB_API).post("/orgs/acme/repos").matchHeader("authorization", tokenHeader(mint.token)).reply(400, { message: "Problems parsing JSON" });

    const res = await create(alice, teamId, { installationId, name: "widgets" });

    expectError(res, 502, "github_unavailable");
    expect(res.body).toEqual({ error: expect.objectContaining({ message: expect.stringContaining("HTTP 400") }) });
  });

  test("rejects a caller without access: no session 401, someone else's team 404, and calls GitHub not", async () => {
    const { installationId, teamId } = await arrange();
    const bob = await signedInMember(server().deps, BOB, null);

    expectError(await create(null, teamId, { installationId, name: "widgets" }), 401, "unauthenticated");
    expectError(await create(bob, teamId, { installationId, name: "widgets" }), 404, "not_found");
    expect(github.calls).toEqual([]);
  });

  test.each([
    ["an unknown field", { name: "widgets", visibility: "internal" }],
    ["a name with a slash", { name: "acme/widgets" }],
    ["a name with a space", { name: "my widgets" }],
    ["an empty name", { name: "" }],
    ["no name", {}],
    ["private as a string", { name: "widgets", private: "yes" }],
  ])("answers 400 invalid_input to %s and calls GitHub not", async (_what, body) => {
    const { installationId, teamId, alice } = await arrange();

    const res = await create(alice, teamId, { installationId, ...body });

    expectError(res, 400, "invalid_input");
    expect(github.calls).toEqual([]);
  });
});
