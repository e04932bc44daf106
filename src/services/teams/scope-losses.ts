import { Db, isPostgres } from "../../db/knex";
import { ActorType, appendAuditEvents } from "../../repositories/audit-events";
import { LeavingRepositories, linksListing, scopesOfTeam } from "../../repositories/link-scopes";
import type { EventRecorder } from "../events/platform-events";

export interface ScopeLossesDeps {
  events: EventRecorder;
  now: () => Date;
  /** Who is recorded as removing them: GitHub (a webhook, the default) or the system (a reconcile). */
  actor?: ActorType;
}

/**
 * Repositories that leave an installation (removed from it, deleted, transferred away) leave
 * every list scope by the foreign key's cascade. This runs such a removal in the caller's
 * transaction and tells each team whose list lost one, as a change through the API is told: an
 * audit event (by GitHub) and `team.installation.scope_changed` with the scope after it and the
 * ids removed. Links on "all" change nothing and hear nothing.
 */
export function createScopeLosses({ events, now, actor = "github" }: ScopeLossesDeps) {
  return async function removingFromScopes<T>(trx: Db, leaving: LeavingRepositories[], remove: () => Promise<T>): Promise<T> {
    const links = [];
    for (const l of leaving) if (l.repositoryIds.length > 0) links.push(...(await linksListing(trx, l)));
    const before = new Map<string, number[]>();
    for (const link of links) {
      // As a scope change through the API locks the link: the two do not interleave (Postgres; SQLite has one writer).
      if (isPostgres(trx)) await trx("team_installations").where({ team_id: link.teamId, installation_id: link.installationId }).forUpdate().first();
      const scope = (await scopesOfTeam(trx, link.teamId, link.installationId)).get(link.installationId);
      if (Array.isArray(scope)) before.set(`${link.teamId}:${link.installationId}`, scope);
    }
    const result = await remove();
    const at = now();
    for (const link of links) {
      const had = before.get(`${link.teamId}:${link.installationId}`);
      if (!had) continue;
      const after = (await scopesOfTeam(trx, link.teamId, link.installationId)).get(link.installationId);
      if (!Array.isArray(after)) continue;
      const kept = new Set(after);
      const removed = had.filter((id) => !kept.has(id));
      if (removed.length === 0) continue;
      const { teamId, installationId } = link;
      await appendAuditEvents(
        trx,
        [{ teamId, installationId, actor: { type: actor, id: null }, action: "team.installation.scope_changed", data: { before: had, after, removed } }],
        at,
      );
      await events.record(
        trx,
        [{ type: "team.installation.scope_changed", teamId, subject: `installation:${installationId}`, data: { teamId, installationId, repositories: after, removed } }],
        at,
      );
    }
    return result;
  };
}

export type RemovingFromScopes = ReturnType<typeof createScopeLosses>;
