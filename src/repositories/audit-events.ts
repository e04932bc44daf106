import type { Db } from "../db/knex";
import { dbTime, parseJson, toDate, toNumber, toNumberOrNull } from "./rows";

export type ActorType = "user" | "github" | "system";

export interface AuditEventInput {
  teamId: number | null;
  installationId: number | null;
  actor: { type: ActorType; id: number | null };
  /** The API key that acted (for `actor`, when it acts for a user); null when none did. */
  apiKeyId?: number | null;
  action: string;
  data?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventInput {
  id: number;
  apiKeyId: number | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

export async function appendAuditEvents(db: Db, events: AuditEventInput[], now: Date): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    team_id: e.teamId,
    installation_id: e.installationId,
    actor_type: e.actor.type,
    actor_id: e.actor.id,
    api_key_id: e.apiKeyId ?? null,
    action: e.action,
    data: JSON.stringify(e.data ?? {}),
    created_at: dbTime(now),
  }));
  // 500 rows × 8 columns stays under SQLite's limit of bound variables per statement.
  for (let i = 0; i < rows.length; i += 500) await db("audit_events").insert(rows.slice(i, i + 500));
}

/**
 * One event for every team linked to an installation, written by the database from the links
 * themselves: an installation linked to 10,000 teams costs one statement, not 10,000 rows built here.
 */
export async function appendAuditEventsForLinkedTeams(
  db: Db,
  installationId: number,
  event: Omit<AuditEventInput, "teamId" | "installationId">,
  now: Date,
): Promise<void> {
  await db.raw(
    `insert into audit_events (team_id, installation_id, actor_type, actor_id, action, data, created_at)
     select team_id, installation_id, ?, ?, ?, ?, ? from team_installations where installation_id = ? order by team_id`,
    [event.actor.type, event.actor.id, event.action, JSON.stringify(event.data ?? {}), dbTime(now), installationId],
  );
}

export async function listAuditEvents(db: Db, filter: { teamId?: number; installationId?: number }): Promise<AuditEvent[]> {
  const query = db("audit_events").orderBy("id", "desc");
  if (filter.teamId !== undefined) query.where({ team_id: filter.teamId });
  if (filter.installationId !== undefined) query.where({ installation_id: filter.installationId });
  return (await query).map(mapRow);
}

/** A team's events older than `beforeId` (all when absent), newest first; served by the (team_id, id) index. */
export async function listAuditPage(db: Db, teamId: number, limit: number, beforeId?: number): Promise<AuditEvent[]> {
  const query = db("audit_events").where({ team_id: teamId }).orderBy("id", "desc").limit(limit);
  if (beforeId !== undefined) query.andWhere("id", "<", beforeId);
  return (await query).map(mapRow);
}

function mapRow(row: Record<string, unknown>): AuditEvent {
  return {
    id: toNumber(row.id),
    teamId: toNumberOrNull(row.team_id),
    installationId: toNumberOrNull(row.installation_id),
    actor: { type: row.actor_type as ActorType, id: toNumberOrNull(row.actor_id) },
    apiKeyId: toNumberOrNull(row.api_key_id),
    action: row.action as string,
    data: parseJson(row.data, {}),
    createdAt: toDate(row.created_at),
  };
}
