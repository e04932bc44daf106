import nock from "nock";
import { addInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { scopesOfTeam, writeScope } from "../../../src/repositories/link-scopes";
import { createdRepository } from "../../fixtures/payloads";
import { request } from "../../helpers/browser";
import { nockInstallationToken, recordUnexpectedGithubCalls, tokenHeader, UnexpectedGithubCalls } from "../../helpers/github-app";
import { GITHUB_API } from "../../helpers/github-oauth";
import { expectError } from "../../helpers/http-expect";
import { ACME, installationIds, signedInMember, SignedInMember, teamWithInstallation } from "../../helpers/team-access";
import { describeEachServer } from "../../helpers/test-server";
import { ALICE } from "../../helpers/users";

const ALICE_ACCOUNT = { id: ALICE.id, login: ALICE.login, type: "User", avatarUrl: null };
const STARTER = { id: 31, fullName: "acme/starter", private: true }; // acme's private template
const API = { id: 32, fullName: "acme/api", private: true };

/** GitHub's repository object for GET /repos/{owner}/{repo}. */
const repositoryJson = (fullName: string, flags: { private: boolean; isTemplate: boolean }) => ({
  ...createdRepository(fullName.split("/")[0], fullName.split("/")[1]),
  id: 9999,
  private: flags.private,
  is_template: flags.isTemplate,
});

describeEachServer("POST /api/teams/:teamId/repositories from a template", ({ server }) => {
  // The server's token cache outlives a test's tables: every test acts on an installation of its own.
  const nextInstallationId = installationIds(76001);
  let github: UnexpectedGithubCalls;
  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  const create = (member: SignedInMember, teamId: number, body: unknown) =>
    request(`${server().url}/api/teams/${teamId}/repositories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cookie: member.cookie,
    });

  /** Alice's team linked to an installation on `account` holding acme/starter and acme/api, with `scope`. */
  async function arrange(scope: "all" | number[], account = ACME) {
    const installationId = nextInstallationId();
    const { teamId } = await teamWithInstallation(server().deps, installationId, account);
    await addInstallationRepositories(server().deps.db, installationId, [STARTER, API]);
    await writeScope(server().deps.db, teamId, installationId, scope);
    const alice = await signedInMember(server().deps, ALICE, teamId);
    return { installationId, teamId, alice };
  }

  /** GitHub answering GET /repos/{template} with `token`. */
  const nockTemplate = (token: string, fullName: string, flags: { private: boolean; isTemplate: boolean }) =>
    nock(GITHUB_API).get(`/repos/${fullName}`).matchHeader("authorization", tokenHeader(token)).reply(200, repositoryJson(fullName, flags));

  /** GitHub's generate for `template` with `token`, recording the body it was sent. */
  function nockGenerate(token: string, template: string, created: { owner: string; name: string }) {
    const sent: unknown[] = [];
    const scope = nock(GITHUB_API)
      .post(`/repos/${template}/generate`, (body) => (sent.push(body), true))
      .matchHeader("authorization", tokenHeader(token))
      .reply(201, { ...createdRepository(created.owner, created.name), id: 4343 });
    return { scope, sent };
  }

  test("a private template in the team's list scope: 201, generated as the installation, and the new repository joins the scope", async () => {
    const { installationId, teamId, alice } = await arrange([STARTER.id]);
    const mint = nockInstallationToken(installationId);
    const template = nockTemplate(mint.token, "acme/starter", { private: true, isTemplate: true });
    const generate = nockGenerate(mint.token, "acme/starter", { owner: "acme", name: "widgets" });

    const res = await create(alice, teamId, { installationId, name: "widgets", description: "Widgets", template: "acme/starter" });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ fullName: "acme/widgets", htmlUrl: "https://github.com/acme/widgets", defaultBranch: "main" });
    expect(generate.sent).toEqual([{ owner: "acme", name: "widgets", description: "Widgets", private: true, include_all_branches: false }]);
    expect(template.isDone() && generate.scope.isDone() && mint.scope.isDone()).toBe(true);
    expect((await scopesOfTeam(server().deps.db, teamId)).get(installationId)).toEqual([STARTER.id, 4343]);
    expect(github.calls).toEqual([]);
  });

  test("includeAllBranches and private: false are passed on as include_all_branches and private", async () => {
    const { installationId, teamId, alice } = await arrange("all");
    const mint = nockInstallationToken(installationId);
    nockTemplate(mint.token, "acme/starter", { private: true, isTemplate: true });
    const generate = nockGenerate(mint.token, "acme/starter", { owner: "acme", name: "widgets" });

    const res = await create(alice, teamId, { installationId, name: "widgets", private: false, template: "acme/starter", includeAllBranches: true });

    expect(res.status).toBe(201);
    expect(generate.sent).toEqual([{ owner: "acme", name: "widgets", private: false, include_all_branches: true }]);
    expect(github.calls).toEqual([]);
  });

  test("on the caller's personal account: generated with the caller's user token, minting nothing", async () => {
    const { installationId, teamId, alice } = await arrange("all", ALICE_ACCOUNT);
    const template = nockTemplate(alice.tokens.token, "acme/starter", { private: true, isTemplate: true });
    const generate = nockGenerate(alice.tokens.token, "acme/starter", { owner: "alice", name: "notes" });

    const res = await create(alice, teamId, { installationId, name: "notes", template: "acme/starter" });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fullName: "alice/notes" });
    expect(generate.sent).toEqual([{ owner: "alice", name: "notes", private: true, include_all_branches: false }]);
    expect(template.isDone() && generate.scope.isDone()).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test("a public template outside the team's scope: 201", async () => {
    const { installationId, teamId, alice } = await arrange([API.id]);
    const mint = nockInstallationToken(installationId);
    nockTemplate(mint.token, "octo-templates/node-service", { private: false, isTemplate: true });
    const generate = nockGenerate(mint.token, "octo-templates/node-service", { owner: "acme", name: "service" });

    const res = await create(alice, teamId, { installationId, name: "service", template: "octo-templates/node-service" });

    expect(res.status).toBe(201);
    expect(generate.scope.isDone()).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test.each([
    ["a private template of the installation left out of the team's list scope", "acme/starter", [API.id], true],
    ["a private template of another account that the installation can read", "globex/secret-template", "all", true],
  ] as const)("%s: 403 forbidden naming it, and GitHub's generate is not called", async (_what, name, scope, isPrivate) => {
    const { installationId, teamId, alice } = await arrange(scope === "all" ? "all" : [...scope]);
    const mint = nockInstallationToken(installationId);
    nockTemplate(mint.token, name, { private: isPrivate, isTemplate: true });

    const res = await create(alice, teamId, { installationId, name: "widgets", template: name });

    expectError(res, 403, "forbidden");
    expect(res.body).toEqual({ error: expect.objectContaining({ message: expect.stringContaining(name), details: { outside: { repositories: [name] } } }) });
    expect(github.calls).toEqual([]); // no generate interceptor: a call would be recorded here
  });

  test("a template GitHub does not show the credential (404) outside the scope: 403 forbidden, as for a private one", async () => {
    const { installationId, teamId, alice } = await arrange([API.id]);
    const mint = nockInstallationToken(installationId);
    nock(GITHUB_API).get("/repos/globex/hidden").matchHeader("authorization", tokenHeader(mint.token)).reply(404, { message: "Not Found" });

    const res = await create(alice, teamId, { installationId, name: "widgets", template: "globex/hidden" });

    expectError(res, 403, "forbidden");
    expect(github.calls).toEqual([]);
  });

  test.each([
    ["in the team's scope", "acme/api", "all"],
    ["public, outside the scope", "octo-templates/plain", [STARTER.id]],
  ] as const)("a repository that is not a template (%s): 400 invalid_input saying so, and nothing generated", async (_what, name, scope) => {
    const { installationId, teamId, alice } = await arrange(scope === "all" ? "all" : [...scope]);
    const mint = nockInstallationToken(installationId);
    nockTemplate(mint.token, name, { private: name.startsWith("acme/"), isTemplate: false });

    const res = await create(alice, teamId, { installationId, name: "widgets", template: name });

    expectError(res, 400, "invalid_input");
    expect(res.body).toEqual({ error: expect.objectContaining({ message: `${name} is not a template repository; an admin of it can mark it as one in its settings` }) });
    expect(github.calls).toEqual([]);
  });

  test("a name taken on the account answers 409 conflict, as GitHub's 422 on creation does", async () => {
    const { installationId, teamId, alice } = await arrange("all");
    const mint = nockInstallationToken(installationId);
    nockTemplate(mint.token, "acme/starter", { private: true, isTemplate: true });
    nock(GITHUB_API)
      .post("/repos/acme/starter/generate")
      .reply(422, { message: "Repository creation failed.", errors: [{ resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" }] });

    expectError(await create(alice, teamId, { installationId, name: "widgets", template: "acme/starter" }), 409, "conflict");
    expect(github.calls).toEqual([]);
  });

  test.each([
    ["autoInit with template", { template: "acme/starter", autoInit: true }],
    ["includeAllBranches without template", { includeAllBranches: true }],
    ["a template without an owner", { template: "starter" }],
    ["a template with two slashes", { template: "acme/starter/x" }],
    ["a template named ..", { template: "acme/.." }],
    ["a template with a control character", { template: "acme/star\u0007ter" }],
    ["a template that is not a string", { template: 42 }],
    ["includeAllBranches as a string", { template: "acme/starter", includeAllBranches: "yes" }],
  ])("%s: 400 invalid_input, and GitHub is not called", async (_what, body) => {
    const { installationId, teamId, alice } = await arrange("all");

    expectError(await create(alice, teamId, { installationId, name: "widgets", ...body }), 400, "invalid_input");
    expect(github.calls).toEqual([]);
  });
});
