import { nockUserInstallations } from "../faults/github-calls";
import * as answers from "../fixtures/github-answers";
import * as objects from "../fixtures/github-objects";
import {
  authorizationRevokedEvent,
  createdRepository,
  githubInstallation,
  githubRepository,
  installationEvent,
  installationRepositoriesEvent,
  installationTargetRenamedEvent,
  marketplacePurchaseEvent,
  ORG,
  repository,
  repositoryEvent,
  RepositoryAction,
  USER,
} from "../fixtures/payloads";
import { newInstallationToken } from "../fixtures/tokens";
import { TEST_APP_ID, TEST_CLIENT_ID } from "../helpers/config";
import { nockInstallationToken } from "../helpers/github-app";
import { faults, nockFault } from "../helpers/github-faults";
import { GITHUB_API, newTokens, nockGetUser } from "../helpers/github-oauth";
import { GithubAnswer, githubOpenApi } from "../helpers/github-openapi";
import { nockRepository } from "../helpers/nock-repository";
import { ALICE } from "../helpers/users";
import { startFakeGithub } from "./fake-github";

// The shared nock fixtures and factories (test/helpers, test/fixtures) against GitHub's descriptions:
// the REST answers against api.github.com's (@octokit/openapi), the webhook payloads against
// @octokit/openapi-webhooks, by event and action. The fake GitHub's own answers: github-shapes.test.ts.

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const APP_JWT = `bearer ${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iss: TEST_APP_ID, iat: 0, exp: 600 })}.c2ln`;
const SHA = "1111111111111111111111111111111111111111";

/** A request to api.github.com, answered by whatever nock holds for it. */
async function ask(method: string, path: string, authorization: string, body?: unknown): Promise<GithubAnswer> {
  const res = await fetch(`${GITHUB_API}${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { method, path, status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

const conforms = (answer: GithubAnswer, status: number) => {
  expect(answer.status).toBe(status);
  expect(githubOpenApi().checkResponse(answer).problems).toEqual([]);
};

describe("the nocked GitHub answers as GitHub's description says", () => {
  test("nockInstallationToken: POST /app/installations/{installation_id}/access_tokens", async () => {
    nockInstallationToken(7);
    conforms(await ask("POST", "/app/installations/7/access_tokens", APP_JWT, {}), 201);
  });

  test("nockGetUser: GET /user", async () => {
    const tokens = newTokens();
    nockGetUser(tokens.token, ALICE);
    conforms(await ask("GET", "/user", `token ${tokens.token}`), 200);
  });

  test("nockUserInstallations (faults): GET /user/installations", async () => {
    const tokens = newTokens();
    nockUserInstallations(tokens.token, [githubInstallation({ id: 7 }), githubInstallation({ id: 8, account: USER, suspendedBy: "octocat", suspendedAt: "2026-11-02T00:00:00Z" })]);
    conforms(await ask("GET", "/user/installations?per_page=100", `token ${tokens.token}`), 200);
  });

  test("nockFault: a secondary rate limit (403) and a server error (5xx, GitHub's body no contract)", async () => {
    nockFault({ method: "POST", path: "/orgs/acme/repos" }, faults.secondaryRateLimit());
    conforms(await ask("POST", "/orgs/acme/repos", "token t", { name: "x" }), 403);
    nockFault({ method: "GET", path: "/app/installations/7" }, faults.status(502));
    conforms(await ask("GET", "/app/installations/7", APP_JWT), 502);
  });

  test("nockRepository: every git data and contents route, on an empty repository and on one with commits", async () => {
    const token = newInstallationToken();
    const auth = `token ${token}`;
    nockRepository({ owner: "acme", repo: "empty", token });
    conforms(await ask("GET", "/repos/acme/empty", auth), 200);
    conforms(await ask("GET", "/repos/acme/empty/git/ref/heads%2Fmain", auth), 409);
    conforms(await ask("PUT", "/repos/acme/empty/contents/docs%2Fa.md", auth, { message: "m", content: "aGk=", branch: "main" }), 201);

    const repo = nockRepository({ owner: "acme", repo: "widgets", token, branches: { main: SHA } });
    conforms(await ask("GET", "/repos/acme/widgets/git/ref/heads%2Fmain", auth), 200);
    conforms(await ask("GET", "/repos/acme/widgets/git/ref/heads%2Fnone", auth), 404);
    conforms(await ask("GET", `/repos/acme/widgets/git/commits/${SHA}`, auth), 200);
    const blob = await ask("POST", "/repos/acme/widgets/git/blobs", auth, { content: "aGk=", encoding: "base64" });
    conforms(blob, 201);
    const sha = (blob.body as { sha: string }).sha;
    const tree = await ask("POST", "/repos/acme/widgets/git/trees", auth, { base_tree: repo.commit(SHA)!.tree, tree: [{ path: "a.md", mode: "100644", type: "blob", sha }] });
    conforms(tree, 201);
    const commit = await ask("POST", "/repos/acme/widgets/git/commits", auth, { message: "m", tree: (tree.body as { sha: string }).sha, parents: [SHA] });
    conforms(commit, 201);
    conforms(await ask("POST", "/repos/acme/widgets/git/refs", auth, { ref: "refs/heads/feature", sha: (commit.body as { sha: string }).sha }), 201);
    conforms(await ask("PATCH", "/repos/acme/widgets/git/refs/heads%2Fmain", auth, { sha: (commit.body as { sha: string }).sha, force: false }), 200);
    conforms(await ask("PATCH", "/repos/acme/widgets/git/refs/heads%2Fmain", auth, { sha: SHA, force: false }), 422);
  });
});

describe("the shared factories are GitHub's objects", () => {
  test.each([
    ["createdRepository: POST /orgs/{org}/repos", "POST", "/orgs/{org}/repos", 201, () => createdRepository("acme", "widgets")],
    ["createdRepository: POST /user/repos", "POST", "/user/repos", 201, () => createdRepository("alice", "notes", "User")],
    ["githubInstallation: GET /app/installations/{installation_id}", "GET", "/app/installations/{installation_id}", 200, () => githubInstallation({ id: 7, suspendedBy: "admin", suspendedAt: "2026-11-02T00:00:00Z" })],
    ["githubInstallation: GET /app/installations", "GET", "/app/installations", 200, () => [githubInstallation({ id: 7 }), githubInstallation({ id: 8, account: USER, repositorySelection: "selected" })]],
    [
      "githubRepository: GET /installation/repositories",
      "GET",
      "/installation/repositories",
      200,
      () => ({ total_count: 2, repository_selection: "all", repositories: [githubRepository({ id: 1, name: "api" }), githubRepository({ id: 2, name: "web", private: false, archived: true })] }),
    ],
    ["githubRepository: GET /repos/{owner}/{repo}", "GET", "/repos/{owner}/{repo}", 200, () => githubRepository({ id: 1, name: "api", defaultBranch: "trunk" })],
    ["githubApp: GET /app", "GET", "/app", 200, () => objects.githubApp()],
    ["githubMembership: GET /user/memberships/orgs/{org}", "GET", "/user/memberships/orgs/{org}", 200, () => answers.githubMembership(ORG, USER, { role: "member", state: "pending" })],
    ["githubPublicUser: GET /user", "GET", "/user", 200, () => objects.githubPublicUser({ ...ALICE, name: null })],
    ["githubTokenAuthorization: POST /applications/{client_id}/token", "POST", "/applications/{client_id}/token", 200, () => answers.githubTokenAuthorization("ghu_x", ALICE, TEST_CLIENT_ID)],
    ["githubError: a 404", "GET", "/repos/{owner}/{repo}", 404, () => answers.githubError("Not Found")],
  ] as const)("%s", (_name, method, path, status, body) => {
    expect(githubOpenApi().checkResponse({ method, path, status, body: body() }).problems).toEqual([]);
  });

  test("the check finds what a shape lacks (an installation without html_url, an account avatar_url null)", () => {
    const { html_url: _dropped, ...installation } = githubInstallation({ id: 7 });
    const problems = githubOpenApi().checkResponse({ method: "GET", path: "/app/installations/7", status: 200, body: { ...installation, account: { ...installation.account, avatar_url: null } } }).problems;
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining("required property 'html_url'"), expect.stringContaining("/account/avatar_url must be string")]));
  });
});

describe("the webhook payloads the tests send are GitHub's", () => {
  const api = { id: 11, name: "api" };
  const PLAN = { planId: 1, planName: "Free" };
  const REPOSITORY_ACTIONS: Array<[RepositoryAction, Record<string, unknown>?]> = [
    ["created"], ["deleted"], ["archived"], ["unarchived"], ["privatized"], ["publicized"],
    ["renamed", { repository: { name: { from: "api-v1" } } }],
    ["transferred", { owner: { from: { organization: objects.githubOrganization(ORG) } } }],
    ["edited", { default_branch: { from: "master" } }],
  ];

  test.each([
    ...(["created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"] as const).map(
      (action) => ["installation", () => installationEvent(action, { id: 7, suspendedAt: action === "suspend" ? "2026-11-02T00:00:00Z" : null, suspendedBy: action === "suspend" ? "admin" : null }, action === "created" ? [repository(1, "acme/api")] : undefined)] as const,
    ),
    ["installation", () => installationEvent("created", { id: 8, account: USER, repositorySelection: "selected" }, [])] as const,
    ...(["added", "removed"] as const).map((action) => ["installation_repositories", () => installationRepositoriesEvent(action, { id: 7 }, { [action]: [repository(1, "acme/api")] })] as const),
    ...REPOSITORY_ACTIONS.map(([action, changes]) => ["repository", () => repositoryEvent(action, 7, action === "transferred" ? { ...api, owner: USER } : api, changes)] as const),
    ["installation_target", () => installationTargetRenamedEvent(7, { ...ORG, login: "acme-renamed" }, "acme")] as const,
    ["github_app_authorization", () => authorizationRevokedEvent(ALICE.id)] as const,
    ...(["purchased", "cancelled", "pending_change_cancelled"] as const).map((action) => ["marketplace_purchase", () => marketplacePurchaseEvent(action, PLAN)] as const),
    ...(["changed", "pending_change"] as const).map((action) => ["marketplace_purchase", () => marketplacePurchaseEvent(action, { ...PLAN, planId: 2, unitCount: 5, account: USER }, PLAN)] as const),
  ].map(([event, payload]) => [`${event}.${(payload() as { action: string }).action}`, event, payload] as const))("%s", (_name, event, payload) => {
    expect(githubOpenApi().checkWebhook(event, payload()).problems).toEqual([]);
  });

  test("the fake GitHub's installation webhooks", async () => {
    const github = await startFakeGithub();
    try {
      const acme = github.world.install(github.world.addOrg({ id: 9001, login: "acme" }));
      github.signInAs(ALICE);
      for (const action of ["created", "deleted", "suspend", "unsuspend"] as const) {
        if (action === "suspend") github.world.setSuspended(acme.id, true);
        if (action === "unsuspend") github.world.setSuspended(acme.id, false);
        expect(githubOpenApi().checkWebhook("installation", github.installationEvent(action, acme)).problems).toEqual([]);
      }
    } finally {
      await github.close();
    }
  });
});
