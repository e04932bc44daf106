/**
 * Repositories with just enough git behind them for the fake GitHub (GHES layout, /api/v3): what an
 * installation token creates and commits through. Added to a running fake with
 * `github.addRoutes(git.routes)`; `git.reset()` between tests (the fake's reset keeps added routes).
 *
 *   const git = createGithubGit(github);
 *   git.repo("acme", "widgets")!.refs.get("main");     // a branch's head
 *   git.filesAt(sha);                                  // path → bytes of a commit's tree
 *
 *   git.addRepository(acme, "starter", { isTemplate: true, branches: { main: { "README.md": "# Starter\n" } } });
 *
 * Every route needs a token the fake handed out, checked as GitHub checks it (github-callers.ts): an
 * installation token reaches its account's repositories (a down-scoped one only its repository_ids:
 * 404 elsewhere) and writes only with contents: write (403 otherwise); creating needs
 * administration: write; a user's token acts on their own account and their orgs'; anyone reads a public repository.
 *   POST  /orgs/:org/repos                  { name, private, description, auto_init } — auto_init: a first commit with README.md;
 *                                           the repository joins the world (and a "selected" installation, as on GitHub)
 *   POST  /repos/:owner/:repo/generate      { owner, name, description, private, include_all_branches } from a template the
 *                                           token can read (404 otherwise; 422 not a template): the default branch's
 *                                           files (every branch's with include_all_branches), each as one root commit
 *   GET   /repos/:owner/:repo               default_branch, size (0 while empty)
 *   GET   …/git/ref/heads/:branch           404 unknown; 409 "Git Repository is empty." without commits
 *   GET   …/git/commits/:sha                POST …/git/blobs, …/git/trees (base_tree), …/git/commits, …/git/refs
 *   PATCH …/git/refs/heads/:branch          422 unless a fast-forward (or force)
 *   PUT   …/contents/:path                  { message, content (base64), branch, sha } — the way into an empty repository
 * Objects are content-addressed (sha1, as git hashes blobs); the git data API answers 409 on an empty repository.
 * A commit an installation token makes without author or committer is signed by GitHub: its
 * `verification` says verified; one with either is "unsigned" (GitHub's "Signature verification for bots").
 */
import { createHash } from "node:crypto";
import { fileCommitJson, gitBlobJson, gitCommitJson, GitRepoUrls, gitRefJson, gitTreeJson, verificationJson } from "../fixtures/git-objects";
import { githubError } from "../fixtures/github-answers";
import { githubRepository } from "../fixtures/github-objects";
import { badCredentials, bearer, json, notFound, Reply, Route, RouteContext } from "./fake-http";
import type { FakeAccount } from "./fake-github";
import { accessTo, Caller, callerOf, FakeGithubCallers, mayAdminister, notAccessible } from "./github-callers";

export interface GitCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  /** GitHub signed it: made by an installation token with no author or committer given. */
  signed: boolean;
}

export { verificationJson };

/** Whether GitHub signs a commit so asked: by an installation (ghs_) token, without author or committer. */
export const signsCommit = (token: string | undefined, body: Record<string, unknown>) =>
  Boolean(token?.startsWith("ghs_")) && body.author === undefined && body.committer === undefined;

export interface GitRepo {
  id: number;
  owner: FakeAccount;
  name: string;
  private: boolean;
  description: string | null;
  isTemplate: boolean;
  defaultBranch: string;
  /** Branch name (no refs/heads/) → head commit sha. Empty: a repository without commits. */
  refs: Map<string, string>;
}

export interface NewGitRepo {
  private?: boolean;
  isTemplate?: boolean;
  defaultBranch?: string;
  /** Branch → path → text: one commit per branch holding those files. */
  branches?: Record<string, Record<string, string>>;
}

export interface FakeGit {
  routes: Route[];
  /** A repository with files, known to the world too (an installation on its owner reaches it). */
  addRepository(owner: FakeAccount, name: string, options?: NewGitRepo): GitRepo;
  repo(owner: string, name: string): GitRepo | undefined;
  commit(sha: string): GitCommit | undefined;
  /** Path → bytes of every file in the commit's tree. */
  filesAt(commitSha: string): Record<string, Buffer>;
  /** The commits from `sha` back along first parents, newest first. */
  log(sha: string): GitCommit[];
  reset(): void;
}

type Json = Record<string, unknown>;
type TreeEntry = { path: string; sha?: string | null; content?: string };

const API = "/api/v3";
const REPO = "/repos/([^/]+)/([^/]+)";
const sha1 = (data: string | Buffer) => createHash("sha1").update(data).digest("hex");
const invalid = (message: string) => json(422, githubError(message));
const EMPTY = json(409, githubError("Git Repository is empty."));

export function createGithubGit(github: FakeGithubCallers & { url: string }): FakeGit {
  const repos = new Map<string, GitRepo>(); // "owner/name", lowercase
  const blobs = new Map<string, Buffer>();
  const trees = new Map<string, Map<string, string>>(); // path → blob sha
  const commits = new Map<string, GitCommit>();
  let clock = 0;

  const addBlob = (bytes: Buffer) => {
    const sha = sha1(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]));
    blobs.set(sha, bytes);
    return sha;
  };
  const addTree = (files: Map<string, string>) => {
    const sorted = new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
    const sha = sha1(`tree ${JSON.stringify([...sorted])}`);
    trees.set(sha, sorted);
    return sha;
  };
  const addCommit = (tree: string, parents: string[], message: string, signed = false): GitCommit => {
    const sha = sha1(`commit ${tree} ${parents.join(",")} ${++clock} ${message}`);
    const commit = { sha, tree, parents, message, signed };
    commits.set(sha, commit);
    return commit;
  };
  const isAncestor = (ancestor: string, of: string): boolean =>
    of === ancestor || (commits.get(of)?.parents ?? []).some((p) => isAncestor(ancestor, p));

  const hosts = () => ({ web: github.url, api: `${github.url}${API}` });
  const urls = (repo: GitRepo): GitRepoUrls => ({ repoApi: `${hosts().api}/repos/${repo.owner.login}/${repo.name}`, repoWeb: `${github.url}/${repo.owner.login}/${repo.name}` });
  const repoJson = (repo: GitRepo) =>
    githubRepository(
      {
        id: repo.id,
        owner: repo.owner,
        name: repo.name,
        private: repo.private,
        isTemplate: repo.isTemplate,
        description: repo.description,
        defaultBranch: repo.defaultBranch,
        size: repo.refs.size === 0 ? 0 : 1,
      },
      hosts(),
    );
  const commitJson = (repo: GitRepo, c: GitCommit) => gitCommitJson(urls(repo), c);
  const refJson = (repo: GitRepo, branch: string, sha: string) => gitRefJson(urls(repo), `refs/heads/${branch}`, sha);

  /**
   * A new repository on `owner`, in the world too; one an installation makes joins a "selected"
   * installation's repositories, as on GitHub. Undefined: the name is taken.
   */
  function newRepository(owner: FakeAccount, name: string, fields: { private: boolean; description: string | null; isTemplate?: boolean }, by?: Caller): GitRepo | undefined {
    const key = `${owner.login}/${name}`.toLowerCase();
    if (repos.has(key)) return undefined;
    const id = Number.parseInt(sha1(`${owner.login}/${name}`).slice(0, 8), 16);
    const repo: GitRepo = { id, owner, name, ...fields, isTemplate: fields.isTemplate ?? false, defaultBranch: "main", refs: new Map() };
    repos.set(key, repo);
    if (!github.world.repository(id)) github.world.addRepository(owner, { id, name, private: repo.private, defaultBranch: repo.defaultBranch });
    if (by?.kind === "installation" && by.installation.repositorySelection === "selected") {
      github.world.selectRepositories(by.installation.id, [...by.installation.selectedRepositoryIds, id]);
    }
    return repo;
  }

  /** The account a repository is made on, when the caller may (404 when not theirs, 403 without administration: write). */
  function creatorOn(ctx: RouteContext, login: string): { caller: Caller; owner: FakeAccount } | Reply {
    const caller = callerOf(github, ctx.req);
    if (!caller) return badCredentials();
    const user = caller.kind === "user" && caller.user.login.toLowerCase() === login.toLowerCase() ? caller.user : undefined;
    const owner: FakeAccount | undefined = user ? { id: user.id, login: user.login, type: "User" } : github.world.org(login);
    if (!owner) return notFound();
    const may = mayAdminister(github, caller, owner);
    if (may === null) return notFound();
    return may ? { caller, owner } : notAccessible();
  }

  /**
   * A route on a repository: GitHub answers 404 when the token does not reach it (another
   * account's private repository, or outside a down-scoped token's repositories) and 403 when it
   * reaches it without `contents: write` for a write.
   */
  const route = (method: string, path: string, handler: (repo: GitRepo, ctx: RouteContext, body: Json) => Reply): Route => [
    method,
    new RegExp(`^${API}${REPO}${path}$`),
    async (ctx) => {
      const caller = callerOf(github, ctx.req);
      if (!caller) return badCredentials();
      const repo = repos.get(`${ctx.params[0]}/${ctx.params[1]}`.toLowerCase());
      const access = repo ? accessTo(github, caller, repo, "contents") : "none";
      if (!repo || access === "none") return notFound();
      if (method !== "GET" && access !== "write") return notAccessible();
      return handler(repo, { ...ctx, params: ctx.params.slice(2) }, method === "GET" ? {} : ((await ctx.body()) as Json));
    },
  ];
  /** A route of the git data API: 409 while the repository has no commits, as GitHub answers. */
  const gitRoute = (method: string, path: string, handler: Parameters<typeof route>[2]) =>
    route(method, `/git${path}`, (repo, ctx, body) => (repo.refs.size === 0 ? EMPTY : handler(repo, ctx, body)));

  const routes: Route[] = [
    [
      "POST",
      new RegExp(`^${API}/orgs/([^/]+)/repos$`),
      async (ctx) => {
        const creator = creatorOn(ctx, ctx.params[0]);
        if ("status" in creator) return creator;
        const body = (await ctx.body()) as Json;
        const name = String(body.name ?? "");
        if (!/^[A-Za-z0-9._-]+$/.test(name)) return invalid("Repository creation failed: name is invalid");
        const description = typeof body.description === "string" ? body.description : null;
        const repo = newRepository(creator.owner, name, { private: body.private !== false, description }, creator.caller);
        if (!repo) return invalid("Repository creation failed: name already exists on this account");
        if (body.auto_init === true) {
          const readme = addBlob(Buffer.from(`# ${name}\n`));
          repo.refs.set("main", addCommit(addTree(new Map([["README.md", readme]])), [], "Initial commit").sha);
        }
        return json(201, repoJson(repo));
      },
    ],
    // A template's files, a new history: each copied branch is one root commit with the template's tree.
    [
      "POST",
      new RegExp(`^${API}${REPO}/generate$`),
      async (ctx) => {
        const caller = callerOf(github, ctx.req);
        if (!caller) return badCredentials();
        const template = repos.get(`${ctx.params[0]}/${ctx.params[1]}`.toLowerCase());
        if (!template || accessTo(github, caller, template, "contents") === "none") return notFound();
        const body = (await ctx.body()) as Json;
        const creator = creatorOn(ctx, String(body.owner ?? ""));
        if ("status" in creator) return creator;
        if (!template.isTemplate) return invalid(`${template.owner.login}/${template.name} is not a template repository`);
        const name = String(body.name ?? "");
        if (!/^[A-Za-z0-9._-]+$/.test(name)) return invalid("Repository creation failed: name is invalid");
        const description = typeof body.description === "string" ? body.description : null;
        const repo = newRepository(creator.owner, name, { private: body.private === true, description }, creator.caller);
        if (!repo) return invalid("Repository creation failed: name already exists on this account");
        repo.defaultBranch = template.defaultBranch;
        for (const [branch, head] of template.refs) {
          if (body.include_all_branches !== true && branch !== template.defaultBranch) continue;
          repo.refs.set(branch, addCommit(commits.get(head)!.tree, [], "Initial commit").sha);
        }
        return json(201, repoJson(repo));
      },
    ],
    route("GET", "", (repo) => json(200, repoJson(repo))),
    gitRoute("GET", "/ref/heads(?:/|%2F)(.+)", (repo, ctx) => {
      const sha = repo.refs.get(ctx.params[0]);
      return sha ? json(200, refJson(repo, ctx.params[0], sha)) : notFound();
    }),
    gitRoute("GET", "/commits/([0-9a-f]{40})", (repo, ctx) => {
      const commit = commits.get(ctx.params[0]);
      return commit ? json(200, commitJson(repo, commit)) : notFound();
    }),
    gitRoute("POST", "/blobs", (repo, _ctx, body) => {
      if (typeof body.content !== "string") return invalid("content is missing");
      const sha = addBlob(Buffer.from(body.content, body.encoding === "base64" ? "base64" : "utf8"));
      return json(201, gitBlobJson(urls(repo), sha));
    }),
    gitRoute("POST", "/trees", (repo, _ctx, body) => {
      const base = body.base_tree === undefined ? new Map<string, string>() : trees.get(String(body.base_tree));
      if (!base) return invalid("base_tree is not a valid tree");
      const files = new Map(base);
      for (const entry of (body.tree ?? []) as TreeEntry[]) {
        if (entry.sha === null) files.delete(entry.path);
        else if (entry.sha && blobs.has(entry.sha)) files.set(entry.path, entry.sha);
        else if (typeof entry.content === "string") files.set(entry.path, addBlob(Buffer.from(entry.content)));
        else return invalid(`tree.sha ${String(entry.sha)} is not a valid blob`);
      }
      const sha = addTree(files);
      return json(201, gitTreeJson(urls(repo), sha, [...files].map(([path, blob]) => ({ path, sha: blob }))));
    }),
    gitRoute("POST", "/commits", (repo, ctx, body) => {
      const parents = (body.parents ?? []) as string[];
      if (!trees.has(String(body.tree))) return invalid("tree is not a valid tree");
      if (parents.some((p) => !commits.has(p))) return invalid("parents are not valid commits");
      const signed = signsCommit(bearer(ctx.req), body);
      return json(201, commitJson(repo, addCommit(String(body.tree), parents, String(body.message ?? ""), signed)));
    }),
    gitRoute("POST", "/refs", (repo, _ctx, body) => {
      const branch = /^refs\/heads\/(.+)$/.exec(String(body.ref))?.[1];
      if (!branch) return invalid("ref must be refs/heads/…");
      if (repo.refs.has(branch)) return invalid("Reference already exists");
      if (!commits.has(String(body.sha))) return invalid("Object does not exist");
      repo.refs.set(branch, String(body.sha));
      return json(201, refJson(repo, branch, String(body.sha)));
    }),
    gitRoute("PATCH", "/refs/heads(?:/|%2F)(.+)", (repo, ctx, body) => {
      const branch = ctx.params[0];
      const head = repo.refs.get(branch);
      const sha = String(body.sha);
      if (!head) return invalid("Reference does not exist");
      if (!commits.has(sha)) return invalid("Object does not exist");
      if (body.force !== true && !isAncestor(head, sha)) return invalid("Update is not a fast forward");
      repo.refs.set(branch, sha);
      return json(200, refJson(repo, branch, sha));
    }),
    route("PUT", "/contents/(.+)", (repo, ctx, body) => {
      const path = ctx.params[0];
      const empty = repo.refs.size === 0;
      const branch = typeof body.branch === "string" ? body.branch : repo.defaultBranch;
      const head = repo.refs.get(branch);
      if (!empty && !head) return invalid(`Branch ${branch} not found`);
      const files = new Map(head ? trees.get(commits.get(head)!.tree) : undefined);
      const existed = files.has(path);
      if (existed && body.sha !== files.get(path)) return invalid(`"sha" wasn't supplied or does not match`);
      const blob = addBlob(Buffer.from(String(body.content ?? ""), "base64"));
      files.set(path, blob);
      const commit = addCommit(addTree(files), head ? [head] : [], String(body.message ?? ""), signsCommit(bearer(ctx.req), body));
      if (empty) repo.defaultBranch = branch; // the first push names the default branch
      repo.refs.set(branch, commit.sha);
      const file = { path, sha: blob, size: blobs.get(blob)!.length, branch };
      return json(existed ? 200 : 201, fileCommitJson(urls(repo), file, commitJson(repo, commit)));
    }),
  ];

  const git: FakeGit = {
    routes,
    addRepository(owner, name, options = {}) {
      const repo = newRepository(owner, name, { private: options.private ?? true, description: null, isTemplate: options.isTemplate });
      if (!repo) throw new Error(`the fake GitHub has ${owner.login}/${name} already`);
      repo.defaultBranch = options.defaultBranch ?? Object.keys(options.branches ?? {})[0] ?? "main";
      for (const [branch, files] of Object.entries(options.branches ?? {})) {
        const tree = addTree(new Map(Object.entries(files).map(([path, text]) => [path, addBlob(Buffer.from(text))])));
        repo.refs.set(branch, addCommit(tree, [], `${branch}: first commit`).sha);
      }
      return repo;
    },
    repo: (owner, name) => repos.get(`${owner}/${name}`.toLowerCase()),
    commit: (sha) => commits.get(sha),
    filesAt(commitSha) {
      const tree = trees.get(commits.get(commitSha)?.tree ?? "") ?? new Map<string, string>();
      return Object.fromEntries([...tree].map(([path, blob]) => [path, blobs.get(blob)!]));
    },
    log(sha) {
      const out: GitCommit[] = [];
      for (let c = commits.get(sha); c; c = commits.get(c.parents[0] ?? "")) out.push(c);
      return out;
    },
    reset() {
      repos.clear();
      blobs.clear();
      trees.clear();
      commits.clear();
      clock = 0;
    },
  };
  return git;
}
