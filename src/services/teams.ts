import type { Knex } from "knex";
import { AppError } from "../errors";
import { appendAuditEvents } from "../repositories/audit-events";
import { countAdmins, findMemberRole, listTeamMembers, removeTeamMember } from "../repositories/team-members";
import { addTeamMember, createTeam, findTeam, listTeams, listTeamsOfUser, lockTeam, Team, TeamRole } from "../repositories/teams";

/** Who asks: a person (by GitHub id) or a platform's API key, which may act on every team. */
export type Actor = { kind: "user"; userId: number } | { kind: "api_key"; apiKeyId: number; userId: number | null };

const MAX_TEAM_ID = 2 ** 31 - 1;

// A key acting for a user (X-Octoplex-User) is that user in the history; a bare key is the system.
const auditActor = (actor: Actor) =>
  actor.userId !== null ? { type: "user" as const, id: actor.userId } : { type: "system" as const, id: null };

/**
 * Teams and their members. Access is checked here, not in the routes: a team the caller does not
 * belong to is "not found" (ids are not probed), and writes need the admin role.
 */
export function createTeams({ db, now }: { db: Knex; now: () => Date }) {
  async function access(actor: Actor, teamId: number, need: TeamRole): Promise<Team> {
    const notFound = new AppError("not_found", `Team ${teamId} not found`);
    // teams.id is a 32-bit column: a larger id names no team, and Postgres would refuse to compare it.
    if (teamId > MAX_TEAM_ID) throw notFound;
    const team = await findTeam(db, teamId);
    if (!team) throw notFound;
    if (actor.kind === "api_key") return team;
    const role = await findMemberRole(db, teamId, actor.userId);
    if (!role) throw notFound;
    if (need === "admin" && role !== "admin") throw new AppError("forbidden", "Only a team admin may do this");
    return team;
  }

  return {
    access,

    async create(actor: Actor, name: string): Promise<Team> {
      const creator = actor.userId;
      return db.transaction(async (trx) => {
        const team = await createTeam(trx, name, now());
        // A key acting for a user makes that user the admin; a bare key creates an empty team it administers itself.
        if (creator !== null) await addTeamMember(trx, team.id, creator, "admin", now());
        await appendAuditEvents(trx, [{ teamId: team.id, installationId: null, actor: auditActor(actor), action: "team.created", data: { name } }], now());
        return team;
      });
    },

    async list(actor: Actor) {
      if (actor.kind === "api_key" && actor.userId === null) return (await listTeams(db)).map((t) => ({ ...t, role: "admin" as const }));
      return listTeamsOfUser(db, actor.userId!);
    },

    async members(actor: Actor, teamId: number) {
      await access(actor, teamId, "member");
      return listTeamMembers(db, teamId);
    },

    async setMember(actor: Actor, teamId: number, githubUserId: number, role: TeamRole) {
      await access(actor, teamId, "admin");
      await db.transaction(async (trx) => {
        // The admin count and the write are one step: concurrent demotions and removals queue here.
        if (!(await lockTeam(trx, teamId))) throw new AppError("not_found", `Team ${teamId} not found`);
        const current = await findMemberRole(trx, teamId, githubUserId);
        if (current === "admin" && role !== "admin" && (await countAdmins(trx, teamId)) <= 1) {
          throw new AppError("conflict", "A team keeps at least one admin: make someone else admin first");
        }
        await addTeamMember(trx, teamId, githubUserId, role, now());
        await appendAuditEvents(
          trx,
          [{ teamId, installationId: null, actor: auditActor(actor), action: current ? "team.member.updated" : "team.member.added", data: { githubUserId, role } }],
          now(),
        );
      });
      return { githubUserId, role };
    },

    async removeMember(actor: Actor, teamId: number, githubUserId: number) {
      await access(actor, teamId, "admin");
      await db.transaction(async (trx) => {
        if (!(await lockTeam(trx, teamId))) throw new AppError("not_found", `Team ${teamId} not found`);
        const current = await findMemberRole(trx, teamId, githubUserId);
        if (!current) throw new AppError("not_found", `User ${githubUserId} is not a member of team ${teamId}`);
        if (current === "admin" && (await countAdmins(trx, teamId)) <= 1) {
          throw new AppError("conflict", "The last admin cannot be removed: make someone else admin first");
        }
        await removeTeamMember(trx, teamId, githubUserId);
        await appendAuditEvents(trx, [{ teamId, installationId: null, actor: auditActor(actor), action: "team.member.removed", data: { githubUserId } }], now());
      });
    },
  };
}

export type Teams = ReturnType<typeof createTeams>;
