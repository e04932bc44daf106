import { createHash } from "node:crypto";
import nock from "nock";
import { GITHUB_API } from "./github-oauth";
import { signsCommit } from "../fakes/github-git";
import { fileCommitJson, gitBlobJson, gitCommitJson, gitRefJson, gitTreeJson } from "../fixtures/git-objects";
import { githubError } from "../fixtures/github-answers";
import { githubRepository } from "../fixtures/github-objects";

/**
 * One GitHub repository, nocked, with just enough git behind it for a commit through the git data
 * API (refs, blobs, trees, commits) or the contents API, and a log of every call it answered.
 * Every request must carry `Authorization: token <token>`; anything else reaches no interceptor.
 *
 *   const repo = nockRepository({ owner: "acme", repo: "widgets", token, branches: { main: "…sha" } });
 *   repo.moveBranchOnNextUpdate("main", 1);   // the next PATCH of the ref finds it moved by someone else
 *   repo.calls                                // [{ method, path, body }] in order
 */
export interface RepositoryOptions {
  owner: string;
  repo: string;
  /** The Authorization token every call must carry. */
  token: string;
  defaultBranch?: string;
  /** Branch → head; each head is created as a commit with one README file. Empty: no commits at all. */
  branches?: Record<string, string>;
}

export interface RecordedCall {
  method: string;
  /** The path under /repos/{owner}/{repo}, e.g. "/git/blobs". */
  path: string;
  body: Record<string, unknown> | undefined;
}

interface Commit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
  /** GitHub signed it (no author or committer asked for): its answer says verified. */
  signed: boolean;
}

type TreeEntry = { path: string; mode: string; type: string; sha: string };

export interface NockedRepository {
  readonly calls: RecordedCall[];
  readonly refs: Map<string, string>;
  commit(sha: string): Commit | undefined;
  tree(sha: string): TreeEntry[] | undefined;
  /** The blob's bytes, decoded. */
  blob(sha: string): Buffer | undefined;
  /** Every path → blob sha reachable from the commit (its tree merged with its base trees). */
  filesAt(commitSha: string): Record<string, Buffer>;
  /** The next `times` ref updates of `branch` find that someone pushed first: 422, and the branch has moved. */
  moveBranchOnNextUpdate(branch: string, times: number): void;
  /** Calls to `METHOD /path` (path under the repository, e.g. "POST /git/blobs"). */
  callsTo(route: string): RecordedCall[];
  scope: nock.Scope;
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

export function nockRepository(options: RepositoryOptions): NockedRepository {
  const { owner, repo, token } = options;
  const base = `/repos/${owner}/${repo}`;
  const htmlBase = `https://github.com/${owner}/${repo}`;
  const calls: RecordedCall[] = [];
  const refs = new Map<string, string>();
  const commits = new Map<string, Commit>();
  const trees = new Map<string, { base?: string; entries: TreeEntry[] }>();
  const blobs = new Map<string, Buffer>();
  const pendingMoves = new Map<string, number>();
  let defaultBranch = options.defaultBranch ?? "main";
  let counter = 0;

  function addBlob(content: Buffer): string {
    const sha = sha1(`blob ${content.length}\0${content.toString("base64")}`);
    blobs.set(sha, content);
    return sha;
  }
  function addTree(entries: TreeEntry[], baseTree?: string): string {
    const sha = sha1(`tree ${++counter} ${JSON.stringify(entries)} ${baseTree ?? ""}`);
    trees.set(sha, { base: baseTree, entries });
    return sha;
  }
  function addCommit(tree: string, parents: string[], message: string, sha = sha1(`commit ${++counter} ${tree} ${parents.join(",")}`), signed = false): Commit {
    const commit = { sha, tree, parents, message, signed };
    commits.set(sha, commit);
    return commit;
  }
  /** Someone else's commit on top of the branch. */
  function foreignPush(branch: string): void {
    const head = refs.get(branch)!;
    const file = addBlob(Buffer.from(`pushed meanwhile ${++counter}\n`));
    const tree = addTree([{ path: `other-${counter}.txt`, mode: "100644", type: "blob", sha: file }], commits.get(head)!.tree);
    refs.set(branch, addCommit(tree, [head], "someone else's push").sha);
  }
  function filesOfTree(sha: string): Record<string, string> {
    const tree = trees.get(sha);
    if (!tree) return {};
    const files = tree.base ? filesOfTree(tree.base) : {};
    for (const e of tree.entries) files[e.path] = e.sha;
    return files;
  }

  for (const [branch, head] of Object.entries(options.branches ?? {})) {
    const readme = addBlob(Buffer.from(`# ${repo}\n`));
    addCommit(addTree([{ path: "README.md", mode: "100644", type: "blob", sha: readme }]), [], "Initial commit", head);
    refs.set(branch, head);
  }

  const isEmpty = () => refs.size === 0;
  const urls = { repoApi: `${GITHUB_API}${base}`, repoWeb: htmlBase };
  const emptyRepository = (): nock.ReplyFnResult => [409, githubError("Git Repository is empty.", "https://docs.github.com/rest/git")];
  const notFound = (): nock.ReplyFnResult => [404, githubError("Not Found")];
  const unprocessable = (message: string): nock.ReplyFnResult => [422, githubError(message, "https://docs.github.com/rest/git/refs")];
  const commitJson = (c: Commit) => gitCommitJson(urls, c);
  const refJson = (branch: string) => gitRefJson(urls, `refs/heads/${branch}`, refs.get(branch)!);
  const repositoryId = Number.parseInt(sha1(`${owner}/${repo}`).slice(0, 8), 16);

  function record(method: string, uri: string, body: unknown): void {
    const path = decodeURIComponent(new URL(uri, GITHUB_API).pathname).slice(base.length);
    calls.push({ method, path, body: body && typeof body === "object" ? (body as Record<string, unknown>) : undefined });
  }
  // Octokit may send "heads/x" as heads%2Fx.
  const branchOf = (uri: string, marker: string) => decodeURIComponent(uri.split(marker)[1]).replace(/^heads\//, "");
  type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const asBody = (raw: nock.Body): Body => (typeof raw === "string" ? JSON.parse(raw || "{}") : raw) as Body;
  const path = (suffix: string) => new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${suffix}$`);

  const scope = nock(GITHUB_API, { reqheaders: { authorization: `token ${token}` } })
    .persist()
    .get(path(""))
    .reply((uri) => {
      record("GET", uri, undefined);
      return [200, githubRepository({ id: repositoryId, owner: { id: 424200, login: owner }, name: repo, defaultBranch, size: isEmpty() ? 0 : 42 })];
    })
    .get(path("/git/ref/(.+)"))
    .reply((uri) => {
      record("GET", uri, undefined);
      if (isEmpty()) return emptyRepository();
      const branch = branchOf(uri, "/git/ref/");
      return refs.has(branch) ? [200, refJson(branch)] : notFound();
    })
    .get(path("/git/commits/([0-9a-f]+)"))
    .reply((uri) => {
      record("GET", uri, undefined);
      const commit = commits.get(uri.split("/git/commits/")[1]);
      return commit ? [200, commitJson(commit)] : notFound();
    })
    .post(path("/git/blobs"))
    .reply((uri, raw) => {
      const body = asBody(raw);
      record("POST", uri, body);
      if (isEmpty()) return emptyRepository();
      const content = Buffer.from(body.content, body.encoding === "base64" ? "base64" : "utf8");
      return [201, gitBlobJson(urls, addBlob(content))];
    })
    .post(path("/git/trees"))
    .reply((uri, raw) => {
      const body = asBody(raw);
      record("POST", uri, body);
      if (isEmpty()) return emptyRepository();
      if (body.base_tree && !trees.has(body.base_tree)) return unprocessable("Invalid tree info");
      for (const entry of body.tree as TreeEntry[]) if (!blobs.has(entry.sha)) return unprocessable(`Invalid tree info: ${entry.path}`);
      return [201, gitTreeJson(urls, addTree(body.tree, body.base_tree), body.tree)];
    })
    .post(path("/git/commits"))
    .reply((uri, raw) => {
      const body = asBody(raw);
      record("POST", uri, body);
      if (!trees.has(body.tree) || (body.parents as string[]).some((p) => !commits.has(p))) return unprocessable("Invalid commit");
      return [201, commitJson(addCommit(body.tree, body.parents, body.message, undefined, signsCommit(token, body)))];
    })
    .post(path("/git/refs"))
    .reply((uri, raw) => {
      const body = asBody(raw);
      record("POST", uri, body);
      const branch = String(body.ref).replace(/^refs\/heads\//, "");
      if (refs.has(branch)) return unprocessable("Reference already exists");
      if (!commits.has(body.sha)) return unprocessable("Object does not exist");
      refs.set(branch, body.sha);
      return [201, refJson(branch)];
    })
    .patch(path("/git/refs/(.+)"))
    .reply((uri, raw) => {
      const body = asBody(raw);
      record("PATCH", uri, body);
      const branch = branchOf(uri, "/git/refs/");
      if (!refs.has(branch)) return unprocessable("Reference does not exist");
      const moves = pendingMoves.get(branch) ?? 0;
      if (moves > 0) {
        pendingMoves.set(branch, moves - 1);
        foreignPush(branch);
      }
      const next = commits.get(body.sha);
      if (!next) return unprocessable("Object does not exist");
      if (!body.force && !next.parents.includes(refs.get(branch)!)) return unprocessable("Update is not a fast forward");
      refs.set(branch, body.sha);
      return [200, refJson(branch)];
    })
    .put(path("/contents/(.+)"))
    .reply((uri, raw) => {
      const body = asBody(raw);
      record("PUT", uri, body);
      const filePath = decodeURIComponent(uri.split("/contents/")[1]);
      const branch = body.branch ?? defaultBranch;
      const parent = refs.get(branch);
      if (!parent && !isEmpty()) return notFound();
      const blob = addBlob(Buffer.from(body.content, "base64"));
      const tree = addTree([{ path: filePath, mode: "100644", type: "blob", sha: blob }], parent ? commits.get(parent)!.tree : undefined);
      const commit = addCommit(tree, parent ? [parent] : [], body.message, undefined, signsCommit(token, body));
      if (isEmpty()) defaultBranch = branch;
      refs.set(branch, commit.sha);
      return [201, fileCommitJson(urls, { path: filePath, sha: blob, size: blobs.get(blob)!.length, branch }, commitJson(commit))];
    });

  return {
    calls,
    refs,
    commit: (sha) => commits.get(sha),
    tree: (sha) => trees.get(sha)?.entries,
    blob: (sha) => blobs.get(sha),
    filesAt(commitSha) {
      const commit = commits.get(commitSha);
      const files: Record<string, Buffer> = {};
      if (!commit) return files;
      for (const [p, sha] of Object.entries(filesOfTree(commit.tree))) files[p] = blobs.get(sha)!;
      return files;
    },
    moveBranchOnNextUpdate: (branch, times) => void pendingMoves.set(branch, times),
    callsTo: (route) => calls.filter((c) => `${c.method} ${c.path}` === route),
    scope,
  };
}
