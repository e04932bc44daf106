import type { Knex } from "knex";
import { AppError } from "../../errors";
import { appendAuditEvents, AuditEventInput } from "../../repositories/audit-events";
import { countAdmins, findMemberRole, listTeamMembers, removeTeamMember } from "../../repositories/team-members";
import { addTeamMember, createTeam, findTeam, listTeams, listTeamsOfUser, lockTeam, Team, TeamRole } from "../../repositories/teams";

/**
 * Who asks: a person (by GitHub id) or a platform's API key, maybe acting for a user. A key's
 * `teamIds` are the teams it is limited to; null for a platform-wide key, which may act on every team.
 */
export type Actor = { kind: "user"; userId: number } | { kind: "api_key"; apiKeyId: number; userId: number | null; teamIds: number[] | null };

/** A team as GET /api/teams lists it: `role` is null for a key acting for nobody (it is no member). */
export interface ListedTeam extends Team {
  role: TeamRole | null;
}

const MAX_TEAM_ID = 2 ** 31 - 1;

/**
 * Who an audit event names: the user (a key acting for a user is that user; a bare key is the
 * system), and the key that acted, so a key's doings can be told from the person's own.
 */
export const auditActorOf = (actor: Actor): Pick<AuditEventInput, "actor" | "apiKeyId"> => ({
  actor: actor.userId !== null ? { type: "user", id: actor.userId } : { type: "system", id: null },
  apiKeyId: actor.kind === "api_key" ? actor.apiKeyId : null,
});

/** A key limited to teams reaches only those; a person and a platform-wide key are not limited here. */
export const keyReaches = (actor: Actor, teamId: number): boolean => actor.kind !== "api_key" || actor.teamIds === null || actor.teamIds.includes(teamId);

/**
 * Teams and their members. Access is checked here, not in the routes: a team the caller does not
 * belong to is "not found" (ids are not probed), and writes need the admin role.
 */
export function createTeams({ db, now }: { db: Knex; now: () => Date }) {
  async function access(actor: Actor, teamId: number, need: TeamRole): Promise<Team> {
    const notFound = new AppError("not_found", `Team ${teamId} not found`);
    // teams.id is a 32-bit column: a larger id names no team, and Postgres would refuse to compare it.
    if (teamId > MAX_TEAM_ID) throw notFound;
    // A team outside a limited key's list is someone else's team: the same 404, so ids are not probed.
    if (!keyReaches(actor, teamId)) throw notFound;
    const team = await findTeam(db, teamId);
    if (!team) throw notFound;
    if (actor.kind === "api_key") return team;
    const role = await findMemberRole(db, teamId, actor.userId);
    if (!role) throw notFound;
    if (need === "admin" && role !== "admin") throw new AppError("forbidden", "Only a team admin may do this");
    return team;
  }

  /**
   * create, in the caller's transaction (the team stands or falls with what else it holds). A team
   * always starts with an admin: the person creating it, or for an API key the user it acts for or
   * the one it names (`admin`). A key limited to teams creates none: the new team would be outside
   * its own list.
   */
  async function createIn(trx: Knex.Transaction, actor: Actor, name: string, admin?: number): Promise<Team> {
    if (actor.kind === "user" && admin !== undefined && admin !== actor.userId) {
      throw new AppError("invalid_input", "admin names the first admin for an API key; a person creating a team becomes its admin", {
        details: [{ path: "admin", message: "is only for API keys" }],
      });
    }
    if (actor.kind === "api_key" && actor.teamIds !== null) {
      throw new AppError("forbidden", "This API key is limited to named teams and cannot create one: use a platform-wide key");
    }
    const creator = admin ?? actor.userId;
    if (creator === null) {
      throw new AppError("user_required", "A team needs a first admin: send X-Octoplex-User, or name them with `admin` (a GitHub user id) in the body");
    }
    const team = await createTeam(trx, name, now());
    await addTeamMember(trx, team.id, creator, "admin", now());
    await appendAuditEvents(trx, [{ teamId: team.id, installationId: null, ...auditActorOf(actor), action: "team.created", data: { name } }], now());
    return team;
  }

  return {
    access,

    /**
     * A team always starts with an admin: the person creating it, or for an API key the user it
     * acts for or the one it names (`admin`). A key limited to teams creates none: the new team
     * would be outside its own list.
     */
    async create(actor: Actor, name: string, admin?: number): Promise<Team> {
      return db.transaction((trx) => createIn(trx, actor, name, admin));
    },

    createIn,

    /** A person's teams, each with their role. */
    mine: (userId: number) => listTeamsOfUser(db, userId),

    /** A person's teams; a key's reach: a user's teams when it acts for one, else every team it may act on, with no role. */
    async list(actor: Actor): Promise<ListedTeam[]> {
      const teams: ListedTeam[] = actor.userId !== null ? await listTeamsOfUser(db, actor.userId) : (await listTeams(db)).map((t) => ({ ...t, role: null }));
      return teams.filter((t) => keyReaches(actor, t.id));
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
          [{ teamId, installationId: null, ...auditActorOf(actor), action: current ? "team.member.updated" : "team.member.added", data: { githubUserId, role } }],
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
        await appendAuditEvents(trx, [{ teamId, installationId: null, ...auditActorOf(actor), action: "team.member.removed", data: { githubUserId } }], now());
      });
    },
  };
}

export type Teams = ReturnType<typeof createTeams>;
