import { Db, isPostgres } from "../db/knex";
import { Installation, mapInstallationRow } from "./installations";
import { dbTime, toDate, toNumber, toNumberOrNull } from "./rows";

/** A team's use of an installation: the many-to-many link. */
export interface Link {
  teamId: number;
  installationId: number;
  linkedBy: number | null;
  linkedAt: Date;
}

const TABLE = "team_installations";

function mapRow(row: Record<string, unknown>): Link {
  return {
    teamId: toNumber(row.team_id),
    installationId: toNumber(row.installation_id),
    linkedBy: toNumberOrNull(row.linked_by),
    linkedAt: toDate(row.linked_at),
  };
}

/** Returns true when the link is new; linking twice keeps the first row (who and when). */
export async function insertLink(db: Db, link: Link): Promise<boolean> {
  const inserted = await db(TABLE)
    .insert({
      team_id: link.teamId,
      installation_id: link.installationId,
      linked_by: link.linkedBy,
      linked_at: dbTime(link.linkedAt),
    })
    .onConflict(["team_id", "installation_id"])
    .ignore()
    .returning("team_id");
  return inserted.length > 0;
}

export async function deleteLink(db: Db, teamId: number, installationId: number): Promise<boolean> {
  return (await db(TABLE).where({ team_id: teamId, installation_id: installationId }).delete()) > 0;
}

export async function listLinks(db: Db, filter: { teamId?: number; installationId?: number } = {}): Promise<Link[]> {
  const query = db(TABLE).orderBy(["team_id", "installation_id"]);
  if (filter.teamId !== undefined) query.where({ team_id: filter.teamId });
  if (filter.installationId !== undefined) query.where({ installation_id: filter.installationId });
  return (await query).map(mapRow);
}

/** The teams an installation is linked to, in id order. */
export async function listTeamIdsOfInstallation(db: Db, installationId: number): Promise<number[]> {
  return (await db(TABLE).where({ installation_id: installationId }).orderBy("team_id").pluck("team_id")).map(toNumber);
}

/** Removes every link of an installation and returns the teams that lost it. */
export async function deleteLinksOfInstallation(db: Db, installationId: number): Promise<number[]> {
  const query = db(TABLE).where({ installation_id: installationId });
  let rows: Array<{ team_id: unknown }>;
  if (isPostgres(db)) {
    // One statement, so a link added concurrently is either deleted and returned or left alone.
    rows = await query.delete().returning("team_id");
  } else {
    // SQLite's knex dialect has no DELETE … RETURNING; its single writer gives the same guarantee
    // inside the caller's transaction (a concurrent writer makes this one fail, not lose a row).
    rows = await query.clone().select("team_id");
    await query.delete();
  }
  return rows.map((r) => toNumber(r.team_id)).sort((a, b) => a - b);
}

/** A team's links with their installations, in one query (the connect page and GET …/installations). */
export async function listTeamLinksWithInstallations(db: Db, teamId: number): Promise<Array<{ link: Link; installation: Installation }>> {
  const rows = await db(TABLE)
    .join("installations", "installations.id", `${TABLE}.installation_id`)
    .where(`${TABLE}.team_id`, teamId)
    .orderBy(`${TABLE}.linked_at`)
    .orderBy(`${TABLE}.installation_id`)
    .select("installations.*", `${TABLE}.team_id`, `${TABLE}.installation_id`, `${TABLE}.linked_by`, `${TABLE}.linked_at`);
  return rows.map((row) => ({ link: mapRow(row), installation: mapInstallationRow(row) }));
}
