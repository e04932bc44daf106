import type { Knex } from "knex";
import { AppError } from "../../errors";
import { AuditEvent, listAuditPage } from "../../repositories/audit-events";
import type { Actor, Teams } from "./teams";

export interface AuditPage {
  events: AuditEvent[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

// The cursor is the id of the last event returned: ids only grow, so a page never shifts when
// newer events arrive while someone is paging back.
const encodeCursor = (id: number) => Buffer.from(`audit:${id}`).toString("base64url");
function decodeCursor(cursor: string): number {
  const match = /^audit:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new AppError("invalid_input", "cursor is not one this API returned");
  return Number(match[1]);
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;

/** A team's audit trail, newest first, cursor-paginated. */
export function createAuditTrail(db: Knex) {
  return async function teamAudit(teams: Teams, actor: Actor, teamId: number, page: { cursor?: string; limit: number }): Promise<AuditPage> {
    await teams.access(actor, teamId, "member");
    const before = page.cursor ? decodeCursor(page.cursor) : undefined;
    const rows = await listAuditPage(db, teamId, page.limit + 1, before);
    const events = rows.slice(0, page.limit);
    return { events, nextCursor: rows.length > page.limit ? encodeCursor(events[events.length - 1].id) : null };
  };
}
