import type { Knex } from "knex";
import type { ProbotOctokit } from "probot";
import { AppError } from "../../errors";
import type { GithubAccess } from "./github-access";
import { scopesOfTeam } from "../../repositories/link-scopes";
import { listScopeHolds } from "../../repositories/repository-scope";
import { installationForRepository } from "../teams/team-installation";
import type { Actor, Teams } from "../teams/teams";

export interface FileToCommit {
  path: string;
  content: string;
  encoding?: "utf-8" | "base64";
}

/** What to commit: the request body. */
export interface CommitContent {
  branch: string;
  message: string;
  files: FileToCommit[];
  baseBranch?: string;
}

export interface CommitRequest extends CommitContent {
  owner: string;
  repo: string;
}

/** What a commit answers: `verified` is GitHub's signature check of the commit it made. */
export interface CommitResult {
  sha: string;
  htmlUrl: string;
  verified: boolean;
}

export const MAX_FILES = 1000;
export const MAX_BYTES = 50 * 1024 * 1024;
export const MAX_PATH_LENGTH = 4096;
export const MAX_MESSAGE_LENGTH = 10_000;
const MAX_ATTEMPTS = 3;
const BLOB_CONCURRENCY = 8;

const statusOf = (e: unknown) => (e as { status?: number }).status;
const isEmptyRepository = (e: unknown) => statusOf(e) === 409 && /empty/i.test((e as Error).message ?? "");

/**
 * One commit holding every file, through the git data API: blobs → tree on the branch's tree →
 * commit → ref. A new branch starts from `baseBranch` or the default branch; an empty repository
 * gets its first commit through the contents API. When the branch moves meanwhile, the tree and
 * commit are rebuilt on the new head (blobs are reused), up to three times.
 *
 * `readContent` is called only once the caller may commit to the repository: reading and
 * validating tens of megabytes is the expensive part, and is nobody's to ask for on a team they
 * are not in (404, as ever) or a repository the team cannot reach (404) or is not scoped to (403).
 *
 * No author or committer is sent: GitHub then makes the app the author and signs the commit, which
 * it shows as Verified ("Signature verification for bots"); a name of ours would leave it unsigned.
 */
export function createFileCommitter({ db, teams, github }: { db: Knex; teams: Teams; github: GithubAccess }) {
  return async function commitFiles(
    actor: Actor,
    teamId: number,
    target: { owner: string; repo: string },
    readContent: () => Promise<CommitContent>,
  ): Promise<CommitResult> {
    await teams.access(actor, teamId, "member");
    const installation = await installationForRepository(db, teamId, target.owner, target.repo);
    await assertInScope(db, teamId, installation.id, `${target.owner}/${target.repo}`);
    const content = await readContent();
    checkLimits(content.files);
    return github.asInstallation(installation.id, (octokit) => commitWith(octokit, { ...target, ...content }));
  };
}

/**
 * A list-scoped link reaches only its listed repositories. An "all" link reaches whatever the
 * installation does, even a repository the database has not heard of yet: GitHub decides.
 */
async function assertInScope(db: Knex, teamId: number, installationId: number, fullName: string): Promise<void> {
  const scope = (await scopesOfTeam(db, teamId, installationId)).get(installationId);
  if (scope === undefined || scope === "all") return;
  if (await listScopeHolds(db, teamId, installationId, fullName)) return;
  throw new AppError("forbidden", `${fullName} is outside the team's repository scope on installation ${installationId}; a team admin can add it to the link`);
}

function checkLimits(files: FileToCommit[]): void {
  if (files.length > MAX_FILES) throw new AppError("payload_too_large", `At most ${MAX_FILES} files per commit (got ${files.length})`);
  const bytes = files.reduce((sum, f) => sum + (f.encoding === "base64" ? Math.floor((f.content.length * 3) / 4) : Buffer.byteLength(f.content)), 0);
  if (bytes > MAX_BYTES) throw new AppError("payload_too_large", `At most ${MAX_BYTES / 1024 / 1024} MB of files per commit`);
  const paths = new Set<string>();
  for (const f of files) {
    if (paths.has(f.path)) throw new AppError("invalid_input", `${f.path} appears twice`);
    paths.add(f.path);
  }
}

type Verification = { verification?: { verified?: boolean } | null };
const verifiedOf = (commit: Verification) => commit.verification?.verified === true;

async function commitWith(octokit: ProbotOctokit, request: CommitRequest): Promise<CommitResult> {
  const { owner, repo, branch } = request;
  const repoRef = { owner, repo };
  let files = request.files;
  let head = await branchHead(octokit, request);
  if (head === "empty") {
    // The git data API answers 409 on an empty repository: the contents API makes the first commit.
    const [first, ...rest] = files;
    const { data } = await octokit.request("PUT /repos/{owner}/{repo}/contents/{path}", {
      ...repoRef,
      path: first.path,
      message: request.message,
      content: first.encoding === "base64" ? first.content : Buffer.from(first.content, "utf8").toString("base64"),
      branch,
    });
    if (rest.length === 0) return { sha: data.commit.sha!, htmlUrl: data.commit.html_url!, verified: verifiedOf(data.commit as Verification) };
    files = rest;
    head = { sha: data.commit.sha!, exists: true };
  }

  const blobs = await createBlobs(octokit, repoRef, files);
  let current = head;
  for (let attempt = 1; ; attempt++) {
    const { data: parent } = await octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", { ...repoRef, commit_sha: current.sha });
    const { data: tree } = await octokit.request("POST /repos/{owner}/{repo}/git/trees", {
      ...repoRef,
      base_tree: parent.tree.sha,
      tree: files.map((f, i) => ({ path: f.path, mode: "100644" as const, type: "blob" as const, sha: blobs[i] })),
    });
    const { data: commit } = await octokit.request("POST /repos/{owner}/{repo}/git/commits", {
      ...repoRef,
      message: request.message,
      tree: tree.sha,
      parents: [current.sha],
    });
    try {
      if (current.exists) {
        await octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { ...repoRef, ref: `heads/${branch}`, sha: commit.sha, force: false });
      } else {
        await octokit.request("POST /repos/{owner}/{repo}/git/refs", { ...repoRef, ref: `refs/heads/${branch}`, sha: commit.sha });
      }
      return { sha: commit.sha, htmlUrl: commit.html_url, verified: verifiedOf(commit) };
    } catch (error) {
      // 422: not a fast-forward (the branch moved) or the ref appeared meanwhile.
      if (statusOf(error) !== 422) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new AppError("conflict", `${branch} kept moving while committing; tried ${MAX_ATTEMPTS} times`);
      }
      const moved = await branchHead(octokit, { ...request, baseBranch: branch });
      if (moved === "empty") throw error;
      current = moved;
    }
  }
}

/** The commit to build on: the branch's head, or its base's when the branch is new; "empty" for an empty repository. */
async function branchHead(octokit: ProbotOctokit, request: CommitRequest): Promise<{ sha: string; exists: boolean } | "empty"> {
  const repoRef = { owner: request.owner, repo: request.repo };
  const ref = async (name: string) => {
    try {
      const { data } = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { ...repoRef, ref: `heads/${name}` });
      return data.object.sha;
    } catch (error) {
      if (isEmptyRepository(error)) return "empty" as const;
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const own = await ref(request.branch);
  if (own === "empty") return "empty";
  if (own) return { sha: own, exists: true };
  const baseName = request.baseBranch ?? (await octokit.request("GET /repos/{owner}/{repo}", repoRef)).data.default_branch;
  const base = await ref(baseName);
  if (base === "empty") return "empty";
  if (!base) {
    // A repository without commits can also answer 404 for its default branch.
    const { data } = await octokit.request("GET /repos/{owner}/{repo}", repoRef);
    if (data.size === 0 && !request.baseBranch) return "empty";
    throw new AppError("invalid_input", `Base branch ${baseName} does not exist in ${request.owner}/${request.repo}`);
  }
  return { sha: base, exists: false };
}

async function createBlobs(octokit: ProbotOctokit, repoRef: { owner: string; repo: string }, files: FileToCommit[]): Promise<string[]> {
  const shas: string[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const f = files[i];
      const { data } = await octokit.request("POST /repos/{owner}/{repo}/git/blobs", {
        ...repoRef,
        content: f.content,
        encoding: f.encoding === "base64" ? "base64" : "utf-8",
      });
      shas[i] = data.sha;
    }
  };
  await Promise.all(Array.from({ length: Math.min(BLOB_CONCURRENCY, files.length) }, worker));
  return shas;
}
