import { TEST_APP_ID } from "../helpers/config";
import { BOB } from "../helpers/users";
import { FakeGithub, startFakeGithub } from "./fake-github";
import { createGithubGit, FakeGit } from "./github-git";

// The fake enforces what GitHub does on writes: a down-scoped token's permissions and repositories,
// administration for creating, and template generation only from what the token can read.

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const appJwt = () => `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({ iss: TEST_APP_ID, iat: 0, exp: 600 })}.c2lnbmF0dXJl`;

describe("the fake GitHub's permissions on writes and templates", () => {
  let github: FakeGithub;
  let git: FakeGit;
  let installationId: number;
  let widgets: number;

  beforeAll(async () => {
    github = await startFakeGithub();
    git = createGithubGit(github);
    github.addRoutes(git.routes);
  });
  beforeEach(() => {
    github.reset();
    git.reset();
    const acme = github.world.addOrg({ id: 9001, login: "acme" });
    installationId = github.world.install(acme).id;
    widgets = git.addRepository(acme, "widgets", { branches: { main: { "README.md": "# Widgets\n" } } }).id;
    git.addRepository(acme, "starter", { isTemplate: true, branches: { main: { "a.txt": "a\n" }, dev: { "b.txt": "b\n" } } });
    const globex = github.world.addOrg({ id: 9002, login: "globex" });
    git.addRepository(globex, "public-starter", { private: false, isTemplate: true, branches: { main: { "p.txt": "p\n" } } });
    git.addRepository(globex, "secret-starter", { isTemplate: true, branches: { main: { "s.txt": "s\n" } } });
  });
  afterAll(() => github?.close());

  async function mint(body: unknown = {}): Promise<string> {
    const res = await fetch(`${github.apiUrl}/app/installations/${installationId}/access_tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${appJwt()}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  }
  async function call(token: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${github.apiUrl}${path}`, {
      method,
      headers: { authorization: `token ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const head = () => git.repo("acme", "widgets")!.refs.get("main")!;

  test("a token with contents: read reads the repository and gets 403 on blobs, trees, commits, refs and contents", async () => {
    const token = await mint({ permissions: { contents: "read" } });
    const tree = git.commit(head())!.tree;

    expect((await call(token, "GET", "/repos/acme/widgets")).status).toBe(200);
    expect((await call(token, "GET", `/repos/acme/widgets/git/commits/${head()}`)).status).toBe(200);
    const writes = [
      ["POST", "/git/blobs", { content: "x" }],
      ["POST", "/git/trees", { base_tree: tree, tree: [] }],
      ["POST", "/git/commits", { message: "m", tree, parents: [head()] }],
      ["POST", "/git/refs", { ref: "refs/heads/x", sha: head() }],
      ["PATCH", "/git/refs/heads/main", { sha: head() }],
      ["PUT", "/contents/new.txt", { message: "m", content: "eA==" }],
    ] as const;
    for (const [method, path, body] of writes) {
      const res = await call(token, method, `/repos/acme/widgets${path}`, body);
      expect([method, path, res.status, res.body.message]).toEqual([method, path, 403, "Resource not accessible by integration"]);
    }
    expect(git.repo("acme", "widgets")!.refs.size).toBe(1);
  });

  test("the same writes succeed with contents: write, and a token limited to another repository gets 404", async () => {
    expect((await call(await mint({ permissions: { contents: "write" } }), "POST", "/repos/acme/widgets/git/blobs", { content: "x" })).status).toBe(201);
    const starterOnly = await mint({ repository_ids: [git.repo("acme", "starter")!.id] });
    expect((await call(starterOnly, "POST", "/repos/acme/widgets/git/blobs", { content: "x" })).status).toBe(404);
    expect((await call(starterOnly, "GET", "/repos/acme/widgets")).status).toBe(404);
    expect(widgets).toBe(git.repo("acme", "widgets")!.id);
  });

  test("creating a repository or generating one needs administration: write (403 without it)", async () => {
    const token = await mint({ permissions: { contents: "write", metadata: "read" } });

    expect((await call(token, "POST", "/orgs/acme/repos", { name: "new" })).status).toBe(403);
    expect((await call(token, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "new" })).status).toBe(403);
    expect(git.repo("acme", "new")).toBeUndefined();
    expect((await call(await mint(), "POST", "/orgs/acme/repos", { name: "new" })).status).toBe(201);
  });

  test("generate copies the template's default branch as one root commit; include_all_branches copies every branch", async () => {
    const token = await mint();

    const one = await call(token, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "one", private: true });
    const all = await call(token, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "all", include_all_branches: true });

    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ full_name: "acme/one", private: true, is_template: false, default_branch: "main" });
    const copy = git.repo("acme", "one")!;
    expect([...copy.refs.keys()]).toEqual(["main"]);
    expect(git.log(copy.refs.get("main")!).map((c) => c.parents)).toEqual([[]]);
    expect(Object.keys(git.filesAt(copy.refs.get("main")!))).toEqual(["a.txt"]);
    expect(all.status).toBe(201);
    const every = git.repo("acme", "all")!;
    expect([...every.refs.keys()].sort()).toEqual(["dev", "main"]);
    expect(git.filesAt(every.refs.get("dev")!)["b.txt"].toString()).toBe("b\n");
    expect(github.world.repositoriesOf(installationId).map((r) => r.name)).toEqual(expect.arrayContaining(["one", "all"]));
  });

  test("generate: a public template of another account works, a private one is 404, a repository that is not a template 422, a taken name 422", async () => {
    const token = await mint();

    expect((await call(token, "POST", "/repos/globex/public-starter/generate", { owner: "acme", name: "p" })).status).toBe(201);
    expect((await call(token, "POST", "/repos/globex/secret-starter/generate", { owner: "acme", name: "s" })).status).toBe(404);
    expect((await call(token, "POST", "/repos/acme/widgets/generate", { owner: "acme", name: "w" })).status).toBe(422);
    expect((await call(token, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "widgets" })).status).toBe(422);
    expect((await call(token, "POST", "/repos/acme/starter/generate", { owner: "globex", name: "elsewhere" })).status).toBe(404);
    expect(git.repo("acme", "s")).toBeUndefined();
  });

  test("a down-scoped token cannot generate from a template outside its repositories (404)", async () => {
    const token = await mint({ repository_ids: [widgets] });
    expect((await call(token, "POST", "/repos/acme/starter/generate", { owner: "acme", name: "x" })).status).toBe(404);
  });

  test("a user's token generates on their own account and reads their orgs' private templates, not other orgs'", async () => {
    github.world.setMembership("acme", BOB, "member");
    const { token } = github.issue(BOB);

    expect((await call(token, "POST", "/repos/acme/starter/generate", { owner: BOB.login, name: "mine" })).status).toBe(201);
    expect(git.repo(BOB.login, "mine")!.owner).toEqual({ id: BOB.id, login: BOB.login, type: "User" });
    expect((await call(token, "POST", "/repos/globex/secret-starter/generate", { owner: BOB.login, name: "theirs" })).status).toBe(404);
  });
});
