import nock from "nock";
import { addInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { scopesOfTeam, writeScope } from "../../../src/repositories/link-scopes";
import { createdRepository } from "../../fixtures/payloads";
import { request } from "../../helpers/browser";
import { nockInstallationToken, recordUnexpectedGithubCalls, tokenHeader, UnexpectedGithubCalls } from "../../helpers/github-app";
import { GITHUB_API } from "../../helpers/github-oauth";
import { expectError } from "../../helpers/http-expect";
import { nockRepository } from "../../helpers/nock-repository";
import { openRequest, within } from "../../helpers/open-request";
import { ACME, installationIds, signedInMember, SignedInMember, teamWithInstallation } from "../../helpers/team-access";
import { describeEachServer } from "../../helpers/test-server";
import { ALICE } from "../../helpers/users";

const BASE = "1111111111111111111111111111111111111111";
const WIDGETS = { id: 2, fullName: "Acme/Widgets", private: true }; // stored in GitHub's own case
const API = { id: 1, fullName: "acme/api", private: true };
const BODY = { branch: "main", message: "Docs", files: [{ path: "docs/guide.md", content: "# Guide\n" }] };

describeEachServer("POST /api/teams/:teamId/repositories/:owner/:repo/commits within the team's repository scope", ({ server }) => {
  // The server's token cache outlives a test's tables: every test acts on an installation of its own.
  const nextInstallationId = installationIds(74001);
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  const commit = (member: SignedInMember, teamId: number, repo = "acme/widgets") =>
    request(`${server().url}/api/teams/${teamId}/repositories/${repo}/commits`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(BODY),
      cookie: member.cookie,
    });

  /** Alice's team linked to acme's installation (which holds acme/api and Acme/Widgets) with `scope`. */
  async function arrange(scope: "all" | number[]) {
    const installationId = nextInstallationId();
    const { teamId } = await teamWithInstallation(server().deps, installationId, ACME);
    await addInstallationRepositories(server().deps.db, installationId, [API, WIDGETS]);
    await writeScope(server().deps.db, teamId, installationId, scope);
    const alice = await signedInMember(server().deps, ALICE, teamId);
    return { installationId, teamId, alice };
  }

  test("a team scoped to acme/api committing to acme/widgets is refused 403 forbidden and GitHub is not called", async () => {
    const { installationId, teamId, alice } = await arrange([API.id]);
    const mint = nockInstallationToken(installationId);

    const res = await commit(alice, teamId);

    expectError(res, 403, "forbidden");
    expect((res.body as { error: { message: string } }).error.message).toMatch(/acme\/widgets is outside the team's repository scope/);
    expect(mint.scope.isDone()).toBe(false);
    expect(github.calls).toEqual([]);
  });

  test("a team scoped to no repository at all is refused 403 forbidden", async () => {
    const { teamId, alice } = await arrange([]);
    expectError(await commit(alice, teamId), 403, "forbidden");
    expect(github.calls).toEqual([]);
  });

  test("the refusal comes before a 70 MB body is read", async () => {
    const { teamId, alice } = await arrange([API.id]);
    const sent = openRequest(
      server().url,
      "POST",
      `/api/teams/${teamId}/repositories/acme/widgets/commits`,
      { "content-type": "application/json", cookie: alice.cookie, "sec-fetch-site": "same-origin", "content-length": String(70 * 1024 * 1024) },
      '{"branch":"main","message":"m","files":[{"path":"a","content":"',
    );
    try {
      const answer = await within(sent.answer, 3000);
      expect(answer === "pending" ? "no answer while the body was still arriving" : [answer.status, (answer.body as { error: { code: string } }).error.code]).toEqual([
        403,
        "forbidden",
      ]);
    } finally {
      sent.close();
    }
    expect(github.calls).toEqual([]);
  });

  test("a team scoped to Acme/Widgets commits to acme/widgets (names match whatever their case): 201, verified, no author or committer sent", async () => {
    const { installationId, teamId, alice } = await arrange([WIDGETS.id]);
    const mint = nockInstallationToken(installationId);
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token, branches: { main: BASE } });

    const res = await commit(alice, teamId);

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ sha: expect.any(String), htmlUrl: expect.any(String), verified: true });
    const [sent] = repo.callsTo("POST /git/commits").map((c) => c.body!);
    expect(sent).toEqual({ message: BODY.message, tree: expect.any(String), parents: [BASE] });
    expect(sent).not.toHaveProperty("author");
    expect(sent).not.toHaveProperty("committer");
    expect(github.calls).toEqual([]);
  });

  test("an 'all' link commits to any repository of the installation, one the database has not heard of too", async () => {
    const { installationId, teamId, alice } = await arrange("all");
    const mint = nockInstallationToken(installationId);
    const widgets = nockRepository({ owner: "acme", repo: "widgets", token: mint.token, branches: { main: BASE } });
    const unknown = nockRepository({ owner: "acme", repo: "brand-new", token: mint.token, branches: { main: BASE } });

    expect((await commit(alice, teamId)).status).toBe(201);
    expect((await commit(alice, teamId, "acme/brand-new")).status).toBe(201);

    expect(widgets.callsTo("POST /git/commits")).toHaveLength(1);
    expect(unknown.callsTo("POST /git/commits")).toHaveLength(1);
    expect(github.calls).toEqual([]);
  });

  describe("POST /api/teams/:teamId/repositories as a user, on a list-scoped link to their personal account", () => {
    const ALICE_ACCOUNT = { id: ALICE.id, login: ALICE.login, type: "User", avatarUrl: null };

    async function createNotes(repositorySelection: "all" | "selected") {
      const installationId = nextInstallationId();
      const { teamId } = await teamWithInstallation(server().deps, installationId, ALICE_ACCOUNT, { repositorySelection });
      await writeScope(server().deps.db, teamId, installationId, []);
      const alice = await signedInMember(server().deps, ALICE, teamId);
      const api = nock(GITHUB_API).post("/user/repos").matchHeader("authorization", tokenHeader(alice.tokens.token)).reply(201, createdRepository("alice", "notes"));
      const res = await request(`${server().url}/api/teams/${teamId}/repositories`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ installationId, name: "notes" }),
        cookie: alice.cookie,
      });
      expect(res.status).toBe(201);
      expect(api.isDone()).toBe(true);
      return { teamId, installationId, scope: (await scopesOfTeam(server().deps.db, teamId, installationId)).get(installationId) };
    }

    test("on an installation reaching every repository, the new repository joins the scope", async () => {
      const { scope } = await createNotes("all");
      expect(scope).toEqual([createdRepository("alice", "notes").id]);
    });

    test("on a 'selected' installation the scope is left alone: GitHub says by webhook whether the installation reaches it", async () => {
      const { scope, installationId } = await createNotes("selected");
      expect(scope).toEqual([]);
      expect(await server().deps.db("installation_repositories").where({ installation_id: installationId })).toEqual([]);
    });
  });
});
