import nock from "nock";
import { addInstallationRepositories } from "../../../src/repositories/installation-repositories";
import { request } from "../../helpers/browser";
import { nockInstallationToken, recordUnexpectedGithubCalls, tokenHeader, UnexpectedGithubCalls } from "../../helpers/github-app";
import { GITHUB_API } from "../../helpers/github-oauth";
import { expectError } from "../../helpers/http-expect";
import { nockRepository } from "../../helpers/nock-repository";
import { installationIds, signedInMember, SignedInMember, teamWithInstallation } from "../../helpers/team-access";
import { describeEachServer } from "../../helpers/test-server";
import { ALICE, BOB } from "../../helpers/users";

const ACME = { id: 9001, login: "acme", type: "Organization", avatarUrl: null };
const BASE = "1111111111111111111111111111111111111111";
// A PNG's first bytes: a NUL, high bytes, nothing that survives a UTF-8 round trip.
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe, 0x80]);

const THREE_FILES = [
  { path: "docs/guide.md", content: "# Guide\n\nÜnïcödé is fine.\n" },
  { path: "src/index.ts", content: 'export const answer = 42;\n', encoding: "utf-8" },
  { path: "assets/logo.png", content: PNG.toString("base64"), encoding: "base64" },
];

/** The bytes a file of the request stands for. */
const bytesOf = (f: { content: string; encoding?: string }) => Buffer.from(f.content, f.encoding === "base64" ? "base64" : "utf8");

describeEachServer("POST /api/teams/:teamId/repositories/:owner/:repo/commits", ({ server }) => {
  // The server's token cache outlives a test's tables: every test acts on an installation of its own.
  const nextInstallationId = installationIds(72001);
  const url = (path: string) => `${server().url}${path}`;
  let github: UnexpectedGithubCalls;

  beforeEach(() => {
    github = recordUnexpectedGithubCalls();
  });
  afterEach(() => github.stop());

  function commit(member: SignedInMember | null, teamId: number, body: unknown, repo = "acme/widgets") {
    return request(url(`/api/teams/${teamId}/repositories/${repo}/commits`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cookie: member?.cookie,
    });
  }

  /** A team with acme's installation and Alice as its member; `mint`: GitHub hands out a token for it. */
  async function arrange(overrides = {}) {
    const installationId = nextInstallationId();
    const { teamId } = await teamWithInstallation(server().deps, installationId, ACME, overrides);
    const alice = await signedInMember(server().deps, ALICE, teamId);
    return { installationId, teamId, alice };
  }

  test("commits three files, one binary, to a new branch in one commit: blobs, a tree on the base tree, a commit on the base head, a new ref", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token, branches: { main: BASE } });

    const res = await commit(alice, teamId, { branch: "feature/docs", message: "Add the guide", files: THREE_FILES });

    expect(res.status).toBe(201);
    const sha = (res.body as { sha: string }).sha;
    expect(res.body).toEqual({ sha, htmlUrl: `https://github.com/acme/widgets/commit/${sha}`, verified: true });
    expect(mint.scope.isDone()).toBe(true);

    const blobs = repo.callsTo("POST /git/blobs").map((c) => c.body);
    expect(blobs).toHaveLength(3);
    expect(blobs).toEqual(
      expect.arrayContaining([
        { content: THREE_FILES[0].content, encoding: "utf-8" },
        { content: THREE_FILES[1].content, encoding: "utf-8" },
        { content: THREE_FILES[2].content, encoding: "base64" },
      ]),
    );
    const [tree] = repo.callsTo("POST /git/trees").map((c) => c.body!);
    expect(repo.callsTo("POST /git/trees")).toHaveLength(1);
    expect(tree.base_tree).toBe(repo.commit(BASE)!.tree);
    expect(tree.tree).toEqual(THREE_FILES.map((f) => ({ path: f.path, mode: "100644", type: "blob", sha: expect.any(String) })));
    const [created] = repo.callsTo("POST /git/commits").map((c) => c.body!);
    expect(repo.callsTo("POST /git/commits")).toHaveLength(1);
    expect(created).toEqual({ message: "Add the guide", tree: expect.any(String), parents: [BASE] });
    expect(repo.callsTo("POST /git/refs").map((c) => c.body)).toEqual([{ ref: "refs/heads/feature/docs", sha }]);
    expect(repo.calls.filter((c) => c.method === "PATCH" || c.method === "PUT")).toEqual([]);

    // What the branch now holds: the base's README and the three files, byte for byte.
    expect(repo.refs.get("feature/docs")).toBe(sha);
    expect(repo.refs.get("main")).toBe(BASE);
    const files = repo.filesAt(sha);
    expect(Object.keys(files).sort()).toEqual(["README.md", ...THREE_FILES.map((f) => f.path)].sort());
    for (const f of THREE_FILES) expect(files[f.path].equals(bytesOf(f))).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test("starts a new branch from baseBranch when given", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const RELEASE = "2222222222222222222222222222222222222222";
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token, branches: { main: BASE, release: RELEASE } });

    const res = await commit(alice, teamId, { branch: "hotfix", baseBranch: "release", message: "Fix", files: THREE_FILES.slice(0, 1) });

    expect(res.status).toBe(201);
    expect(repo.callsTo("POST /git/commits")[0].body).toMatchObject({ parents: [RELEASE] });
    expect(repo.callsTo("POST /git/trees")[0].body).toMatchObject({ base_tree: repo.commit(RELEASE)!.tree });
  });

  test("on an empty repository makes the first commit through the contents API and the rest through git data", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token });

    const res = await commit(alice, teamId, { branch: "main", message: "Initial files", files: THREE_FILES });

    expect(res.status).toBe(201);
    const sha = (res.body as { sha: string }).sha;
    const puts = repo.callsTo(`PUT /contents/${THREE_FILES[0].path}`);
    expect(puts.map((c) => c.body)).toEqual([
      { message: "Initial files", content: bytesOf(THREE_FILES[0]).toString("base64"), branch: "main" },
    ]);
    const first = repo.commit((repo.callsTo("POST /git/commits")[0].body!.parents as string[])[0])!;
    expect(first.parents).toEqual([]); // the contents API made the root commit
    expect(repo.callsTo("POST /git/blobs").map((c) => c.body)).toEqual(
      expect.arrayContaining([
        { content: THREE_FILES[1].content, encoding: "utf-8" },
        { content: THREE_FILES[2].content, encoding: "base64" },
      ]),
    );
    expect(repo.callsTo("POST /git/blobs")).toHaveLength(2);
    expect(repo.callsTo("POST /git/trees")[0].body).toMatchObject({ base_tree: first.tree });
    expect(repo.callsTo("PATCH /git/refs/heads/main").map((c) => c.body)).toEqual([{ sha, force: false }]);
    expect(repo.refs.get("main")).toBe(sha);
    const files = repo.filesAt(sha);
    expect(Object.keys(files).sort()).toEqual(THREE_FILES.map((f) => f.path).sort());
    for (const f of THREE_FILES) expect(files[f.path].equals(bytesOf(f))).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test("on an empty repository with a single file makes one commit through the contents API", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token });

    const res = await commit(alice, teamId, { branch: "main", message: "Logo", files: [THREE_FILES[2]] });

    expect(res.status).toBe(201);
    const sha = (res.body as { sha: string }).sha;
    expect(repo.refs.get("main")).toBe(sha);
    expect(repo.filesAt(sha)["assets/logo.png"].equals(PNG)).toBe(true);
    expect(repo.calls.filter((c) => c.path.startsWith("/git/") && c.method !== "GET")).toEqual([]);
  });

  test("when the branch moves meanwhile (422 not a fast forward), rebuilds the commit on the new head and succeeds", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token, branches: { main: BASE } });
    repo.moveBranchOnNextUpdate("main", 1);

    const res = await commit(alice, teamId, { branch: "main", message: "Docs", files: THREE_FILES.slice(0, 2) });

    expect(res.status).toBe(201);
    const sha = (res.body as { sha: string }).sha;
    const patches = repo.callsTo("PATCH /git/refs/heads/main");
    expect(patches).toHaveLength(2);
    expect(repo.refs.get("main")).toBe(sha);
    // The second attempt sits on someone else's push, which sits on BASE; nothing of theirs is lost.
    const theirs = repo.commit(sha)!.parents[0];
    expect(theirs).not.toBe(BASE);
    expect(repo.commit(theirs)!.parents).toEqual([BASE]);
    const commits = repo.callsTo("POST /git/commits").map((c) => c.body!.parents);
    expect(commits).toEqual([[BASE], [theirs]]);
    expect(repo.callsTo("POST /git/trees").map((c) => c.body!.base_tree)).toEqual([repo.commit(BASE)!.tree, repo.commit(theirs)!.tree]);
    // The blobs are not uploaded twice.
    expect(repo.callsTo("POST /git/blobs")).toHaveLength(2);
    const files = Object.keys(repo.filesAt(sha));
    expect(files).toEqual(expect.arrayContaining(["README.md", "docs/guide.md", "src/index.ts"]));
    expect(files.some((f) => f.startsWith("other-"))).toBe(true);
  });

  test("when the branch keeps moving, gives up after three attempts with 409 conflict and leaves the branch to the others", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const repo = nockRepository({ owner: "acme", repo: "widgets", token: mint.token, branches: { main: BASE } });
    repo.moveBranchOnNextUpdate("main", 3);

    const res = await commit(alice, teamId, { branch: "main", message: "Docs", files: THREE_FILES.slice(0, 1) });

    expectError(res, 409, "conflict");
    expect(repo.callsTo("PATCH /git/refs/heads/main")).toHaveLength(3);
    const head = repo.refs.get("main")!;
    expect(repo.commit(head)!.message).toBe("someone else's push");
    expect(Object.keys(repo.filesAt(head))).not.toContain("docs/guide.md");
  });

  test("on a suspended installation answers 409 installation_suspended and calls GitHub not", async () => {
    const { teamId, alice } = await arrange({ suspendedAt: new Date("2026-11-10T00:00:00Z"), suspendedBy: "owner" });

    expectError(await commit(alice, teamId, { branch: "main", message: "Docs", files: THREE_FILES }), 409, "installation_suspended");
    expect(github.calls).toEqual([]);
  });

  test("to a repository of an owner with no installation linked to the team answers 404 and calls GitHub not", async () => {
    const { teamId, alice } = await arrange();
    // globex has an installation, linked to another team only.
    await teamWithInstallation(server().deps, nextInstallationId(), { id: 9002, login: "globex", type: "Organization", avatarUrl: null });

    for (const repo of ["globex/widgets", "initech/widgets"]) {
      expectError(await commit(alice, teamId, { branch: "main", message: "Docs", files: THREE_FILES }, repo), 404, "not_found");
    }
    expect(github.calls).toEqual([]);
  });

  test("to a repository outside a 'selected' installation's repositories answers 404 and calls GitHub not", async () => {
    const { installationId, teamId, alice } = await arrange({ repositorySelection: "selected" });
    await addInstallationRepositories(server().deps.db, installationId, [{ id: 1, fullName: "acme/api", private: true }]);

    expectError(await commit(alice, teamId, { branch: "main", message: "Docs", files: THREE_FILES }), 404, "not_found");
    expect(github.calls).toEqual([]);
  });

  test("answers 502 github_unavailable with the error shape when GitHub answers 502", async () => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);
    const api = nock(GITHUB_API).get(/^\/repos\/acme\/widgets\//).matchHeader("authorization", tokenHeader(mint.token)).reply(502, "Bad Gateway");

    const res = await commit(alice, teamId, { branch: "main", message: "Docs", files: THREE_FILES });

    expectError(res, 502, "github_unavailable");
    expect(Object.keys(res.body as object)).toEqual(["error"]);
    expect(api.isDone()).toBe(true);
    expect(github.calls).toEqual([]);
  });

  test("with more than 1000 files answers 413 payload_too_large and calls GitHub not", async () => {
    const { teamId, alice } = await arrange();
    const files = Array.from({ length: 1001 }, (_, i) => ({ path: `f/${i}.txt`, content: "x" }));

    expectError(await commit(alice, teamId, { branch: "main", message: "Many", files }), 413, "payload_too_large");
    expect(github.calls).toEqual([]);
  });

  test("rejects a caller without access: no session 401, someone else's team 404, and calls GitHub not", async () => {
    const { teamId } = await arrange();
    const bob = await signedInMember(server().deps, BOB, null);
    const body = { branch: "main", message: "Docs", files: THREE_FILES };

    expectError(await commit(null, teamId, body), 401, "unauthenticated");
    expectError(await commit(bob, teamId, body), 404, "not_found");
    expect(github.calls).toEqual([]);
  });

  const file = { path: "a.txt", content: "a" };
  test.each([
    ["a branch with ..", { branch: "a..b" }],
    ["a branch with a space", { branch: "my branch" }],
    ["a branch ending in .lock", { branch: "main.lock" }],
    ["a branch starting with -", { branch: "-main" }],
    ["a branch ending with /", { branch: "feature/" }],
    ["a baseBranch with ..", { baseBranch: "a..b" }],
    ["a path going up", { files: [{ path: "../x", content: "a" }] }],
    ["a path going up midway", { files: [{ path: "a/../../x", content: "a" }] }],
    ["an absolute path", { files: [{ path: "/abs", content: "a" }] }],
    ["a path with an empty segment", { files: [{ path: "a//b", content: "a" }] }],
    ["a path into .git", { files: [{ path: ".git/config", content: "a" }] }],
    ["content that is not base64", { files: [{ path: "x.bin", content: "not base64!", encoding: "base64" }] }],
    ["an unknown encoding", { files: [{ path: "x.txt", content: "a", encoding: "latin1" }] }],
    ["an unknown field", { force: true }],
    ["an unknown field of a file", { files: [{ ...file, mode: "100755" }] }],
    ["no files", { files: [] }],
    ["the same path twice", { files: [file, file] }],
    ["no message", { message: undefined }],
  ])("answers 400 invalid_input to %s and calls GitHub not", async (_what, change) => {
    const { installationId, teamId, alice } = await arrange();
    const mint = nockInstallationToken(installationId);

    const res = await commit(alice, teamId, { branch: "main", message: "Docs", files: [file], ...change });

    expectError(res, 400, "invalid_input");
    expect(mint.scope.isDone()).toBe(false);
    expect(github.calls).toEqual([]);
  });

  test.each([
    ["an owner with a slash", "ac%2Fme/widgets"],
    ["a repository name with a space", "acme/my%20widgets"],
  ])("answers 400 invalid_input to %s in the path and calls GitHub not", async (_what, repo) => {
    const { teamId, alice } = await arrange();
    expectError(await commit(alice, teamId, { branch: "main", message: "Docs", files: [file] }, repo), 400, "invalid_input");
    expect(github.calls).toEqual([]);
  });
});
