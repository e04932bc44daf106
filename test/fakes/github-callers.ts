// Who calls the fake GitHub and what GitHub lets them do with a repository: an installation token
// (ghs_, maybe down-scoped to some repositories and permissions) or a user's token.
//
//   const caller = callerOf(github, ctx.req);              // undefined: 401 Bad credentials
//   accessTo(github, caller, repo, "contents");            // "none" (GitHub answers 404), "read" or "write"
//   mayAdminister(github, caller, account);                // create repositories on the account
import type { IncomingMessage } from "node:http";
import type { TestUser } from "../helpers/github-oauth";
import { bearer, json, Reply } from "./fake-http";
import type { FakeGithub } from "./fake-github";
import { FakeAccount, FakeInstallation, INSTALLATION_PERMISSIONS } from "./github-world";

export type Caller =
  | { kind: "installation"; installation: FakeInstallation; repositoryIds?: number[]; permissions: Record<string, string> }
  | { kind: "user"; user: TestUser };

export type FakeGithubCallers = Pick<FakeGithub, "installationOfToken" | "limitsOfInstallationToken" | "userOfToken" | "world">;

export interface RepositoryRef {
  id: number;
  owner: FakeAccount;
  private: boolean;
}

const RANK: Record<string, number> = { read: 1, write: 2, admin: 3 };

/** GitHub's answer to a token whose permissions do not cover the call. */
export const notAccessible = (): Reply =>
  json(403, { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest", status: "403" });

export function callerOf(github: FakeGithubCallers, req: IncomingMessage): Caller | undefined {
  const token = bearer(req);
  if (token === undefined) return undefined;
  const installationId = token.startsWith("ghs_") ? github.installationOfToken(token) : undefined;
  const installation = installationId === undefined ? undefined : github.world.installation(installationId);
  if (installation) {
    const limits = github.limitsOfInstallationToken(token);
    return { kind: "installation", installation, repositoryIds: limits?.repositoryIds, permissions: limits?.permissions ?? INSTALLATION_PERMISSIONS };
  }
  const user = github.userOfToken(token);
  return user ? { kind: "user", user } : undefined;
}

const sameLogin = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Whether the user may write on the account's repositories: their own, or an org they are an active member of. */
function userActsFor(github: FakeGithubCallers, user: TestUser, account: FakeAccount): boolean {
  if (account.type === "User") return account.id === user.id;
  return github.world.membership(account.login, user.id)?.state === "active";
}

/**
 * What the caller may do with the repository through `permission`: an installation reaches its
 * account's repositories (a down-scoped token only its repository_ids), reads them with metadata
 * and writes with `permission: write`; anyone reads a public repository; otherwise GitHub answers
 * 404, never telling that the repository exists.
 */
export function accessTo(github: FakeGithubCallers, caller: Caller, repo: RepositoryRef, permission: string): "none" | "read" | "write" {
  const fallback = repo.private ? "none" : "read";
  if (caller.kind === "user") return userActsFor(github, caller.user, repo.owner) ? "write" : fallback;
  const reached = sameLogin(caller.installation.account.login, repo.owner.login) && (!caller.repositoryIds || caller.repositoryIds.includes(repo.id));
  if (!reached) return fallback;
  return (RANK[caller.permissions[permission]] ?? 0) >= RANK.write ? "write" : "read";
}

/**
 * Whether the caller may create repositories on `account`: an installation on it with
 * `administration: write` (otherwise 403), or a user acting for it. null: not theirs at all (404).
 */
export function mayAdminister(github: FakeGithubCallers, caller: Caller, account: FakeAccount): boolean | null {
  if (caller.kind === "user") return userActsFor(github, caller.user, account) ? true : null;
  if (!sameLogin(caller.installation.account.login, account.login)) return null;
  return (RANK[caller.permissions.administration] ?? 0) >= RANK.write;
}
