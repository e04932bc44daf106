import { Db, isPostgres } from "../db/knex";
import { dbTime, toDate, toNumber } from "./rows";

export type TeamRole = "admin" | "member";

export interface Team {
  id: number;
  name: string;
  createdAt: Date;
}

function mapTeam(row: Record<string, unknown>): Team {
  return { id: toNumber(row.id), name: row.name as string, createdAt: toDate(row.created_at) };
}

export async function createTeam(db: Db, name: string, now: Date): Promise<Team> {
  const [row] = await db("teams").insert({ name, created_at: dbTime(now), updated_at: dbTime(now) }).returning("*");
  return mapTeam(row);
}

export async function findTeam(db: Db, id: number): Promise<Team | undefined> {
  const row = await db("teams").where({ id }).first();
  return row ? mapTeam(row) : undefined;
}

/**
 * Serializes writes to one team's membership until the transaction ends: a row lock on Postgres; on
 * SQLite a write as the first statement, which takes the database's write lock (and, in WAL mode,
 * a snapshot no older than that lock). Without it two admins demoting each other both see two
 * admins and leave none. False when the team does not exist.
 */
export async function lockTeam(trx: Db, id: number): Promise<boolean> {
  if (isPostgres(trx)) return (await trx("teams").where({ id }).forUpdate().first("id")) !== undefined;
  return (await trx("teams").where({ id }).update({ updated_at: trx.ref("updated_at") })) === 1;
}

export async function listTeams(db: Db): Promise<Team[]> {
  return (await db("teams").orderBy("id")).map(mapTeam);
}

export async function addTeamMember(db: Db, teamId: number, githubUserId: number, role: TeamRole, now: Date): Promise<void> {
  await db("team_members")
    .insert({ team_id: teamId, github_user_id: githubUserId, role, created_at: dbTime(now) })
    .onConflict(["team_id", "github_user_id"])
    .merge(["role"]);
}

export interface Membership extends Team {
  role: TeamRole;
}

export async function listTeamsOfUser(db: Db, githubUserId: number): Promise<Membership[]> {
  const rows = await db("teams")
    .join("team_members", "team_members.team_id", "teams.id")
    .where("team_members.github_user_id", githubUserId)
    .orderBy("teams.id")
    .select("teams.*", "team_members.role");
  return rows.map((row) => ({ ...mapTeam(row), role: row.role as TeamRole }));
}
