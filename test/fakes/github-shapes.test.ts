import { TEST_APP_ID, TEST_CLIENT_ID, TEST_CLIENT_SECRET } from "../helpers/config";
import { GithubAnswer, githubOpenApi } from "../helpers/github-openapi";
import { ALICE, BOB } from "../helpers/users";
import { FakeGithub, startFakeGithub } from "./fake-github";
import { createGithubGit, FakeGit } from "./github-git";
import { createHookDeliveries, FakeHookDeliveries } from "./github-hook-deliveries";
import { installationApiRoutes } from "./github-installation-api";

// Every GitHub route Octoplex calls (src/github, src/services), as the fake GitHub answers it, against
// GitHub's own description of api.github.com: a fake that answers shapes GitHub never would hides bugs.
// Not served by the fake, so not here: POST /user/repos, and POST github.com/login/oauth/access_token (not
// part of the REST description).

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const appJwt = () => `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iss: TEST_APP_ID, iat: 0, exp: 600 })}.c2lnbmF0dXJl`;
const basic = `Basic ${Buffer.from(`${TEST_CLIENT_ID}:${TEST_CLIENT_SECRET}`).toString("base64")}`;

interface World {
  github: FakeGithub;
  git: FakeGit;
  hooks: FakeHookDeliveries;
  acme: number;
  suspended: number;
  widgets: number;
  userToken: string;
  installationToken: string;
  limitedToken: string;
}

type Call = [name: string, expected: number, send: (w: World) => Promise<GithubAnswer>];

async function ask(github: FakeGithub, method: string, path: string, authorization: string, body?: unknown): Promise<GithubAnswer> {
  const res = await fetch(`${github.apiUrl}${path}`, {
    method,
    headers: { authorization, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { method, path, status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

const asApp = (w: World, method: string, path: string, body?: unknown) => ask(w.github, method, path, `Bearer ${appJwt()}`, body);
const asUser = (w: World, method: string, path: string) => ask(w.github, method, path, `token ${w.userToken}`);
const asInstallation = (w: World, method: string, path: string, body?: unknown, token = w.installationToken) => ask(w.github, method, path, `token ${token}`, body);

async function mint(github: FakeGithub, installationId: number, body: unknown = {}): Promise<string> {
  const res = await ask(github, "POST", `/app/installations/${installationId}/access_tokens`, `Bearer ${appJwt()}`, body);
  return (res.body as { token: string }).token;
}

/** A fake with every route module; `gitFirst`: the git module's GET /repos/{owner}/{repo} answers, not the installation API's. */
function useWorld(gitFirst: boolean): () => World {
  let parts: Pick<World, "github" | "git" | "hooks"> | undefined;
  let world: World | undefined;
  beforeAll(async () => {
    const github = await startFakeGithub();
    const git = createGithubGit(github);
    const hooks = createHookDeliveries();
    github.addRoutes(gitFirst ? [...git.routes, ...installationApiRoutes(github)] : [...installationApiRoutes(github), ...git.routes]);
    github.addRoutes(hooks.routes);
    parts = { github, git, hooks };
  });
  beforeEach(async () => {
    const { github, git, hooks } = parts!;
    github.reset();
    git.reset();
    hooks.reset();
    const acmeOrg = github.world.addOrg({ id: 9001, login: "acme" });
    github.world.setMembership(acmeOrg, BOB, "admin");
    const acme = github.world.install(acmeOrg).id;
    const suspended = github.world.install(ALICE, { repositorySelection: "selected" }).id;
    github.world.setSuspended(suspended, true);
    const widgets = github.world.addRepository(acmeOrg, { name: "widgets" }).id;
    github.world.addRepository(acmeOrg, { name: "gadgets", private: false });
    const userToken = github.issue(BOB).token;
    const installationToken = await mint(github, acme);
    const limitedToken = await mint(github, acme, { repository_ids: [widgets], permissions: { contents: "read" } });
    await hooks.deliver("installation", github.installationEvent("created", github.world.installation(acme)!), { down: true });
    world = { github, git, hooks, acme, suspended, widgets, userToken, installationToken, limitedToken };
  });
  afterAll(() => parts?.github.close());
  return () => world!;
}

/** A repository with one commit on main, made through the fake as Octoplex makes it. */
async function createdRepository(w: World, name = "site"): Promise<string> {
  await asInstallation(w, "POST", "/orgs/acme/repos", { name, private: true, auto_init: true });
  return w.git.repo("acme", name)!.refs.get("main")!;
}

/** acme's "starter" with one commit on main: a template, or a plain repository. */
function starter(w: World, isTemplate: boolean): void {
  w.git.addRepository(w.github.world.org("acme")!, "starter", { isTemplate, branches: { main: { "README.md": "# Starter\n" } } });
}

const CALLS: Call[] = [
  ["GET /user", 200, (w) => asUser(w, "GET", "/user")],
  ["GET /user with a revoked token", 401, (w) => ask(w.github, "GET", "/user", "token ghu_revoked")],
  ["GET /user/installations", 200, (w) => asUser(w, "GET", "/user/installations?per_page=100")],
  ["GET /user/memberships/orgs/{org}", 200, (w) => asUser(w, "GET", "/user/memberships/orgs/acme")],
  ["GET /user/memberships/orgs/{org} of a stranger", 404, (w) => asUser(w, "GET", "/user/memberships/orgs/globex")],
  ["GET /app", 200, (w) => asApp(w, "GET", "/app")],
  ["GET /app/installations", 200, (w) => asApp(w, "GET", "/app/installations?per_page=100")],
  ["GET /app/installations/{installation_id}", 200, (w) => asApp(w, "GET", `/app/installations/${w.acme}`)],
  ["GET /app/installations/{installation_id} (suspended)", 200, (w) => asApp(w, "GET", `/app/installations/${w.suspended}`)],
  ["GET /app/installations/{installation_id} unknown", 404, (w) => asApp(w, "GET", "/app/installations/1")],
  ["POST /app/installations/{installation_id}/access_tokens", 201, (w) => asApp(w, "POST", `/app/installations/${w.acme}/access_tokens`, {})],
  [
    "POST /app/installations/{installation_id}/access_tokens with repository_ids and permissions",
    201,
    (w) => asApp(w, "POST", `/app/installations/${w.acme}/access_tokens`, { repository_ids: [w.widgets], permissions: { contents: "read" } }),
  ],
  ["POST /app/installations/{installation_id}/access_tokens for a stranger repository", 422, (w) => asApp(w, "POST", `/app/installations/${w.acme}/access_tokens`, { repository_ids: [1] })],
  ["POST /app/installations/{installation_id}/access_tokens (suspended)", 403, (w) => asApp(w, "POST", `/app/installations/${w.suspended}/access_tokens`, {})],
  ["POST /applications/{client_id}/token", 200, (w) => ask(w.github, "POST", `/applications/${TEST_CLIENT_ID}/token`, basic, { access_token: w.userToken })],
  ["POST /applications/{client_id}/token of an unknown token", 404, (w) => ask(w.github, "POST", `/applications/${TEST_CLIENT_ID}/token`, basic, { access_token: "ghu_x" })],
  ["DELETE /applications/{client_id}/token", 204, (w) => ask(w.github, "DELETE", `/applications/${TEST_CLIENT_ID}/token`, basic, { access_token: w.userToken })],
  ["DELETE /applications/{client_id}/grant", 204, (w) => ask(w.github, "DELETE", `/applications/${TEST_CLIENT_ID}/grant`, basic, { access_token: w.userToken })],
  ["GET /installation/repositories", 200, (w) => asInstallation(w, "GET", "/installation/repositories?per_page=100")],
  ["GET /app/hook/deliveries", 200, (w) => asApp(w, "GET", "/app/hook/deliveries?per_page=100")],
  ["POST /app/hook/deliveries/{delivery_id}/attempts", 202, async (w) => asApp(w, "POST", `/app/hook/deliveries/${w.hooks.attempts()[0].id}/attempts`)],
];

const INSTALLATION_API_CALLS: Call[] = [
  ["GET /repos/{owner}/{repo}", 200, (w) => asInstallation(w, "GET", "/repos/acme/widgets")],
  ["GET /repos/{owner}/{repo} outside a limited token", 404, (w) => asInstallation(w, "GET", "/repos/acme/gadgets", undefined, w.limitedToken)],
];

const GIT_CALLS: Call[] = [
  ["POST /orgs/{org}/repos", 201, (w) => asInstallation(w, "POST", "/orgs/acme/repos", { name: "site", private: true, auto_init: false })],
  ["POST /orgs/{org}/repos taken", 422, async (w) => (await createdRepository(w), asInstallation(w, "POST", "/orgs/acme/repos", { name: "site" }))],
  ["GET /repos/{owner}/{repo}", 200, async (w) => (await createdRepository(w), asInstallation(w, "GET", "/repos/acme/site"))],
  ["POST /repos/{template_owner}/{template_repo}/generate", 201, (w) => (starter(w, true), asInstallation(w, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "site", private: true }))],
  ["POST /repos/{template_owner}/{template_repo}/generate of a repository that is no template", 422, (w) => (starter(w, false), asInstallation(w, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "site" }))],
  ["GET /repos/{owner}/{repo}/git/ref/{ref}", 200, async (w) => (await createdRepository(w), asInstallation(w, "GET", "/repos/acme/site/git/ref/heads%2Fmain"))],
  ["GET /repos/{owner}/{repo}/git/ref/{ref} of an empty repository", 409, async (w) => (await asInstallation(w, "POST", "/orgs/acme/repos", { name: "site" }), asInstallation(w, "GET", "/repos/acme/site/git/ref/heads%2Fmain"))],
  ["GET /repos/{owner}/{repo}/git/commits/{commit_sha}", 200, async (w) => asInstallation(w, "GET", `/repos/acme/site/git/commits/${await createdRepository(w)}`)],
  ["POST /repos/{owner}/{repo}/git/blobs", 201, async (w) => (await createdRepository(w), asInstallation(w, "POST", "/repos/acme/site/git/blobs", { content: "aGk=", encoding: "base64" }))],
  ["POST /repos/{owner}/{repo}/git/trees", 201, async (w) => {
    const head = await createdRepository(w);
    return asInstallation(w, "POST", "/repos/acme/site/git/trees", { base_tree: w.git.commit(head)!.tree, tree: [{ path: "a.md", mode: "100644", type: "blob", content: "a" }] });
  }],
  ["POST /repos/{owner}/{repo}/git/commits", 201, async (w) => {
    const head = await createdRepository(w);
    return asInstallation(w, "POST", "/repos/acme/site/git/commits", { message: "m", tree: w.git.commit(head)!.tree, parents: [head] });
  }],
  ["POST /repos/{owner}/{repo}/git/refs", 201, async (w) => asInstallation(w, "POST", "/repos/acme/site/git/refs", { ref: "refs/heads/feature", sha: await createdRepository(w) })],
  ["PATCH /repos/{owner}/{repo}/git/refs/{ref}", 200, async (w) => {
    const head = await createdRepository(w);
    const next = await asInstallation(w, "POST", "/repos/acme/site/git/commits", { message: "m", tree: w.git.commit(head)!.tree, parents: [head] });
    return asInstallation(w, "PATCH", "/repos/acme/site/git/refs/heads%2Fmain", { sha: (next.body as { sha: string }).sha, force: false });
  }],
  ["PATCH /repos/{owner}/{repo}/git/refs/{ref} not a fast-forward", 422, async (w) => {
    const head = await createdRepository(w);
    const orphan = await asInstallation(w, "POST", "/repos/acme/site/git/commits", { message: "m", tree: w.git.commit(head)!.tree, parents: [] });
    return asInstallation(w, "PATCH", "/repos/acme/site/git/refs/heads%2Fmain", { sha: (orphan.body as { sha: string }).sha, force: false });
  }],
  ["PUT /repos/{owner}/{repo}/contents/{path} into an empty repository", 201, async (w) => {
    await asInstallation(w, "POST", "/orgs/acme/repos", { name: "site" });
    return asInstallation(w, "PUT", "/repos/acme/site/contents/docs%2FREADME.md", { message: "m", content: "aGk=", branch: "main" });
  }],
];

describe.each([
  ["the installation API's", false, [...CALLS, ...INSTALLATION_API_CALLS]],
  ["the git module's", true, GIT_CALLS],
] as const)("the fake GitHub (%s GET /repos/{owner}/{repo}) answers as GitHub's description says", (_name, gitFirst, calls) => {
  const current = useWorld(gitFirst);

  test.each(calls.map((call) => [call[0], call] as const))("%s", async (_route, [, expected, send]) => {
    const answer = await send(current());
    expect(answer.status).toBe(expected);
    expect(githubOpenApi().checkResponse(answer).problems).toEqual([]);
  });
});
