import type { Db } from "../db/knex";
import { toDate, toNumber } from "./rows";
import type { TeamRole } from "./teams";

export interface TeamMember {
  githubUserId: number;
  login: string | null;
  role: TeamRole;
  addedAt: Date;
}

export async function findMemberRole(db: Db, teamId: number, githubUserId: number): Promise<TeamRole | undefined> {
  const row = await db("team_members").where({ team_id: teamId, github_user_id: githubUserId }).first("role");
  return row?.role as TeamRole | undefined;
}

export async function listTeamMembers(db: Db, teamId: number): Promise<TeamMember[]> {
  const rows = await db("team_members")
    .leftJoin("github_users", "github_users.id", "team_members.github_user_id")
    .where("team_members.team_id", teamId)
    .orderBy("team_members.github_user_id")
    .select("team_members.github_user_id", "team_members.role", "team_members.created_at", "github_users.login");
  return rows.map((r) => ({
    githubUserId: toNumber(r.github_user_id),
    login: (r.login as string | null) ?? null,
    role: r.role as TeamRole,
    addedAt: toDate(r.created_at),
  }));
}

export async function countAdmins(db: Db, teamId: number): Promise<number> {
  return toNumber((await db("team_members").where({ team_id: teamId, role: "admin" }).count({ n: "*" }))[0].n);
}

export async function removeTeamMember(db: Db, teamId: number, githubUserId: number): Promise<boolean> {
  return (await db("team_members").where({ team_id: teamId, github_user_id: githubUserId }).delete()) > 0;
}
