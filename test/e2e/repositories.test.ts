import type { Browser } from "../helpers/browser";
import { createGithubGit, FakeGit } from "../fakes/github-git";
import { installationApiRoutes, tokenMints } from "../fakes/github-installation-api";
import { describeEachE2E } from "../helpers/e2e";
import { BOB } from "../helpers/users";

const ACME = { id: 9001, login: "acme" };
// A PNG's first bytes: a NUL, high bytes, nothing that survives a UTF-8 round trip.
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe, 0x80]);
const THREE_FILES = [
  { path: "docs/guide.md", content: "# Guide\n\nÜnïcödé is fine.\n" },
  { path: "src/index.ts", content: "export const answer = 42;\n", encoding: "utf-8" },
  { path: "assets/logo.png", content: PNG.toString("base64"), encoding: "base64" },
];
const bytesOf = (f: { content: string; encoding?: string }) => Buffer.from(f.content, f.encoding === "base64" ? "base64" : "utf8");

// The server keeps installation tokens in memory across tests while the fake's world starts over:
// every test installs under an id of its own, so no token of an earlier test is reused.
let nextInstallationId = 73001;

// Everything over HTTP: Bob's browser → Octoplex → the fake GitHub's git model on loopback; nothing is nocked.
describeEachE2E("Repositories and commits", ({ e2e }) => {
  let git: FakeGit;
  beforeAll(() => {
    git = createGithubGit(e2e().github);
    e2e().github.addRoutes(git.routes);
    e2e().github.addRoutes(installationApiRoutes(e2e().github));
  });
  beforeEach(() => git.reset());

  /** Bob, an admin of acme, signed in, with a team linked to the app's installation on acme (with `repositories` as scope). */
  async function arrange(repositories: "all" | number[] = "all"): Promise<{ bob: Browser; teamId: number; installationId: number }> {
    const { github, url } = e2e();
    const acme = github.world.org(ACME.login) ?? github.world.addOrg(ACME);
    github.world.setMembership(acme, BOB, "admin");
    const { id: installationId } = github.world.install(acme, { id: nextInstallationId++ });
    const bob = await e2e().signIn(BOB);
    const team = (await bob.json("POST", url("/api/teams"), { name: "Widgets team" })).body as { id: number };
    const linked = await bob.json("POST", url(`/api/teams/${team.id}/installations`), { installationId, repositories });
    expect(linked.status).toBe(201);
    return { bob, teamId: team.id, installationId };
  }

  const commit = (bob: Browser, teamId: number, body: object) =>
    bob.json("POST", e2e().url(`/api/teams/${teamId}/repositories/acme/widgets/commits`), body);

  test("Bob creates acme/widgets for his team, commits three files (one binary) to a new branch in one commit, then a second on top", async () => {
    const { github, url } = e2e();
    const { bob, teamId, installationId } = await arrange();

    const created = await bob.json("POST", url(`/api/teams/${teamId}/repositories`), { installationId, name: "widgets", autoInit: true });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({ fullName: "acme/widgets", htmlUrl: `${github.url}/acme/widgets`, defaultBranch: "main" });
    const repo = git.repo("acme", "widgets")!;
    expect(repo).toMatchObject({ owner: { login: "acme", type: "Organization" }, private: true, defaultBranch: "main" });
    const main = repo.refs.get("main")!;
    expect(Object.keys(git.filesAt(main))).toEqual(["README.md"]);
    // As the installation: its token was minted, and the repository created at the organization.
    const posts = github.requests.filter((r) => r.method === "POST").map((r) => r.path);
    expect(posts).toEqual(expect.arrayContaining([`/api/v3/app/installations/${installationId}/access_tokens`, "/api/v3/orgs/acme/repos"]));

    const first = await commit(bob, teamId, { branch: "feature/docs", message: "Add the guide", files: THREE_FILES });

    expect(first.status).toBe(201);
    const sha = (first.body as { sha: string }).sha;
    expect(first.body).toEqual({ sha, htmlUrl: `${github.url}/acme/widgets/commit/${sha}`, verified: true });
    expect([...repo.refs]).toEqual([
      ["main", main],
      ["feature/docs", sha],
    ]);
    // Exactly one commit on the new branch, on main's head, holding the README and all three files byte for byte.
    expect(git.log(sha).map((c) => [c.message, c.parents])).toEqual([
      ["Add the guide", [main]],
      ["Initial commit", []],
    ]);
    const files = git.filesAt(sha);
    expect(Object.keys(files).sort()).toEqual(["README.md", ...THREE_FILES.map((f) => f.path)].sort());
    for (const f of THREE_FILES) expect(files[f.path].equals(bytesOf(f))).toBe(true);
    expect(files["assets/logo.png"].equals(PNG)).toBe(true);

    const second = await commit(bob, teamId, {
      branch: "feature/docs",
      message: "Change the answer",
      files: [{ path: "src/index.ts", content: "export const answer = 43;\n" }],
    });

    expect(second.status).toBe(201);
    const next = (second.body as { sha: string }).sha;
    expect(second.body).toEqual({ sha: next, htmlUrl: `${github.url}/acme/widgets/commit/${next}`, verified: true });
    expect(repo.refs.get("feature/docs")).toBe(next);
    expect(repo.refs.get("main")).toBe(main);
    expect(git.commit(next)).toMatchObject({ message: "Change the answer", parents: [sha] });
    const after = git.filesAt(next);
    expect(Object.keys(after).sort()).toEqual(Object.keys(files).sort());
    expect(after["src/index.ts"].toString()).toBe("export const answer = 43;\n");
    expect(after["assets/logo.png"].equals(PNG)).toBe(true);
  });

  test("an empty repository (no auto_init) gets its first commit through the contents API and the rest through git data", async () => {
    const { github, url } = e2e();
    const { bob, teamId, installationId } = await arrange();
    const created = await bob.json("POST", url(`/api/teams/${teamId}/repositories`), { installationId, name: "widgets" });
    expect(created.status).toBe(201);
    const repo = git.repo("acme", "widgets")!;
    expect(repo.refs.size).toBe(0);

    const res = await commit(bob, teamId, { branch: "main", message: "Initial files", files: THREE_FILES });

    expect(res.status).toBe(201);
    const sha = (res.body as { sha: string }).sha;
    expect(res.body).toEqual({ sha, htmlUrl: `${github.url}/acme/widgets/commit/${sha}`, verified: true });
    expect([...repo.refs]).toEqual([["main", sha]]);
    // A root commit with the first file (contents API), then one commit with the other two (git data).
    const [last, root] = git.log(sha);
    expect(git.log(sha)).toHaveLength(2);
    expect(root.parents).toEqual([]);
    expect(Object.keys(git.filesAt(root.sha))).toEqual([THREE_FILES[0].path]);
    expect(last.parents).toEqual([root.sha]);
    const files = git.filesAt(sha);
    expect(Object.keys(files).sort()).toEqual(THREE_FILES.map((f) => f.path).sort());
    for (const f of THREE_FILES) expect(files[f.path].equals(bytesOf(f))).toBe(true);
    // The ref lookup answers 409 "Git Repository is empty.": straight to the contents API.
    const calls = github.requests.filter((r) => r.path.startsWith("/api/v3/repos/acme/widgets/"));
    expect(calls.map((r) => `${r.method} ${r.path.replace("/api/v3/repos/acme/widgets", "")}`)).toEqual([
      "GET /git/ref/heads%2Fmain",
      `PUT /contents/${encodeURIComponent(THREE_FILES[0].path)}`,
      "POST /git/blobs",
      "POST /git/blobs",
      `GET /git/commits/${root.sha}`,
      "POST /git/trees",
      "POST /git/commits",
      "PATCH /git/refs/heads%2Fmain",
    ]);
  });

  test("a repository name taken on the account answers 409 conflict", async () => {
    const { url } = e2e();
    const { bob, teamId, installationId } = await arrange();
    expect((await bob.json("POST", url(`/api/teams/${teamId}/repositories`), { installationId, name: "widgets" })).status).toBe(201);

    const again = await bob.json("POST", url(`/api/teams/${teamId}/repositories`), { installationId, name: "Widgets" });

    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "conflict" } });
  });

  describe("from a template", () => {
    const STARTER_FILES = { "README.md": "# Starter\n", "src/index.ts": "export {};\n" };
    const create = (bob: Browser, teamId: number, body: object) => bob.json("POST", e2e().url(`/api/teams/${teamId}/repositories`), body);
    const generateCalls = () => e2e().github.requests.filter((r) => r.method === "POST" && r.path.endsWith("/generate")).map((r) => r.path);

    /** acme/starter (a private template with main and next), and globex's public and private templates. */
    function templates() {
      const { world } = e2e().github;
      const acme = world.addOrg(ACME);
      const globex = world.addOrg({ id: 9002, login: "globex" });
      const starter = git.addRepository(acme, "starter", { isTemplate: true, branches: { main: STARTER_FILES, next: { "NEXT.md": "next\n" } } });
      const plain = git.addRepository(acme, "plain", { branches: { main: { "a.txt": "a\n" } } });
      git.addRepository(globex, "public-starter", { private: false, isTemplate: true, branches: { main: { "p.txt": "p\n" } } });
      git.addRepository(globex, "secret-starter", { isTemplate: true, branches: { main: { "s.txt": "s\n" } } });
      return { starter, plain };
    }

    test("an organization's template in the team's scope: 201, generated as the installation with the template's files, joining the list scope", async () => {
      const { starter } = templates();
      const { bob, teamId, installationId } = await arrange([starter.id]);

      const res = await create(bob, teamId, { installationId, name: "widgets", template: "acme/starter" });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({ fullName: "acme/widgets", htmlUrl: `${e2e().github.url}/acme/widgets`, defaultBranch: "main" });
      const repo = git.repo("acme", "widgets")!;
      expect([...repo.refs.keys()]).toEqual(["main"]);
      expect(Object.fromEntries(Object.entries(git.filesAt(repo.refs.get("main")!)).map(([p, b]) => [p, b.toString()]))).toEqual(STARTER_FILES);
      expect(generateCalls()).toEqual(["/api/v3/repos/acme/starter/generate"]);
      expect(tokenMints(e2e().github, installationId)).toBeGreaterThan(0);
      const listed = await bob.json("GET", e2e().url(`/api/teams/${teamId}/repositories`));
      expect((listed.body as { repositories: Array<{ fullName: string }> }).repositories.map((r) => r.fullName).sort()).toEqual(["acme/starter", "acme/widgets"]);
    });

    test("includeAllBranches copies every branch of the template", async () => {
      templates();
      const { bob, teamId, installationId } = await arrange();

      const res = await create(bob, teamId, { installationId, name: "widgets", template: "acme/starter", includeAllBranches: true });

      expect(res.status).toBe(201);
      expect([...git.repo("acme", "widgets")!.refs.keys()].sort()).toEqual(["main", "next"]);
    });

    test("a public template of another account, outside the team's scope: 201", async () => {
      const { starter } = templates();
      const { bob, teamId, installationId } = await arrange([starter.id]);

      const res = await create(bob, teamId, { installationId, name: "service", template: "globex/public-starter" });

      expect(res.status).toBe(201);
      expect(Object.keys(git.filesAt(git.repo("acme", "service")!.refs.get("main")!))).toEqual(["p.txt"]);
    });

    test.each([
      ["a private template of the installation left out of the team's list scope", "acme/starter"],
      ["a private template of another account", "globex/secret-starter"],
    ])("%s: 403 forbidden naming it, GitHub's generate not called, nothing created", async (_what, template) => {
      const { plain } = templates();
      const { bob, teamId, installationId } = await arrange([plain.id]);

      const res = await create(bob, teamId, { installationId, name: "widgets", template });

      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: "forbidden", message: expect.stringContaining(template) } });
      expect(generateCalls()).toEqual([]);
      expect(git.repo("acme", "widgets")).toBeUndefined();
    });

    test("a repository that is not a template: 400 saying so, nothing created", async () => {
      templates();
      const { bob, teamId, installationId } = await arrange();

      const res = await create(bob, teamId, { installationId, name: "widgets", template: "acme/plain" });

      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: "invalid_input", message: expect.stringContaining("acme/plain is not a template repository") } });
      expect(generateCalls()).toEqual([]);
    });

    test("on Bob's personal account: generated with Bob's user token from his own template, no installation token minted", async () => {
      const { github, url } = e2e();
      const account = github.world.addUser(BOB);
      git.addRepository(account, "dotfiles", { isTemplate: true, branches: { main: { ".bashrc": "alias ll='ls -l'\n" } } });
      const { id: installationId } = github.world.install(account, { id: nextInstallationId++ });
      const bob = await e2e().signIn(BOB);
      const teamId = ((await bob.json("POST", url("/api/teams"), { name: "Bob's own" })).body as { id: number }).id;
      expect((await bob.json("POST", url(`/api/teams/${teamId}/installations`), { installationId })).status).toBe(201);
      const mintsBefore = tokenMints(github, installationId);

      const res = await create(bob, teamId, { installationId, name: "laptop", template: `${BOB.login}/dotfiles` });

      expect(res.status).toBe(201);
      expect(git.repo(BOB.login, "laptop")!.owner).toEqual({ id: BOB.id, login: BOB.login, type: "User" });
      expect(tokenMints(github, installationId)).toBe(mintsBefore);
    });
  });
});
