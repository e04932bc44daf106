import type { Deps } from "../../src/deps";
import { SESSION_COOKIE } from "../../src/http/session-cookie";
import type { InstallationSnapshot } from "../../src/repositories/installations";
import { addTeamMember, TeamRole } from "../../src/repositories/teams";
import { NOW, seedInstallation, seedLinks, seedTeams } from "./factories";
import type { TestTokens, TestUser } from "./github-oauth";
import { seedSignedInUser } from "./users";

export interface SignedInMember {
  user: TestUser;
  /** The user's GitHub token pair as stored (their ghu_ token acts for them). */
  tokens: TestTokens;
  /** `octoplex_session=…`, ready for a Cookie header. */
  cookie: string;
}

/** `user` signed in (a stored token pair and a session) and a `role` of `teamId`; `tokenOptions` as for seedSignedInUser. */
export async function signedInMember(
  deps: Deps,
  user: TestUser,
  teamId: number | null,
  role: TeamRole = "member",
  tokenOptions: Parameters<typeof seedSignedInUser>[2] = {},
): Promise<SignedInMember> {
  const tokens = await seedSignedInUser(deps, user, tokenOptions);
  if (teamId !== null) await addTeamMember(deps.db, teamId, user.id, role, NOW);
  const session = await deps.services.auth!.sessions.create(user.id);
  return { user, tokens, cookie: `${SESSION_COOKIE}=${session.id}` };
}

/** An organization account for teamWithInstallation (commits to acme/… reach it). */
export const ACME: InstallationSnapshot["account"] = { id: 9001, login: "acme", type: "Organization", avatarUrl: null };

/** A new team with an installation linked to it; the installation's account is `account`. */
export async function teamWithInstallation(
  deps: Deps,
  installationId: number,
  account: InstallationSnapshot["account"],
  overrides: Partial<InstallationSnapshot> = {},
): Promise<{ teamId: number; installation: InstallationSnapshot }> {
  const [team] = await seedTeams(deps.db, 1, `team-${installationId}`);
  const installation = await seedInstallation(deps.db, installationId, { account, targetType: account.type === "User" ? "User" : "Organization", ...overrides });
  await seedLinks(deps.db, installationId, [team]);
  return { teamId: team.id, installation };
}

/** Installation ids unique across the tests of a file: the token cache of a running server remembers earlier ones. */
export function installationIds(first: number): () => number {
  let next = first;
  return () => next++;
}
