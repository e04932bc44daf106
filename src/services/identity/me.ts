import type { Knex } from "knex";
import { ReauthorizationRequired } from "../../errors";
import { findGithubUser } from "../../repositories/github-users";
import { listTeamsOfUser } from "../../repositories/teams";
import { findUserToken } from "../../repositories/user-tokens";
import { NEVER_SIGNED_IN } from "./user-tokens";

/** What `GET /api/me` tells a caller about the person they act as. */
export async function describeUser(db: Knex, githubUserId: number) {
  const user = await findGithubUser(db, githubUserId);
  if (!user) throw new ReauthorizationRequired(githubUserId, NEVER_SIGNED_IN);
  const hasToken = Boolean(await findUserToken(db, githubUserId));
  const teams = await listTeamsOfUser(db, githubUserId);
  return {
    user: { id: user.id, login: user.login, name: user.name, avatarUrl: user.avatarUrl },
    authorization: hasToken && !user.reauthorizationRequiredAt ? ("active" as const) : ("reauthorization_required" as const),
    teams: teams.map((t) => ({ id: t.id, name: t.name, role: t.role })),
  };
}
