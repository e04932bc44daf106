import type { Knex } from "knex";
import { isPostgres } from "../../db/knex";
import { AppError } from "../../errors";
import { listReachableRepositories } from "../../github/installation-repositories";
import { toRepository } from "../../github/installation-snapshot";
import { appendAuditEvents } from "../../repositories/audit-events";
import { addInstallationRepositories, clearDepartures, InstallationRepository } from "../../repositories/installation-repositories";
import { findInstallation } from "../../repositories/installations";
import { RepositoryScope, repositoryIdsOutside, scopesOfTeam, writeScope } from "../../repositories/link-scopes";
import type { GithubAccess } from "../github-access/github-access";
import type { EventRecorder } from "../events/platform-events";
import { Actor, auditActorOf } from "./teams";

export interface LinkScopesDeps {
  db: Knex;
  now: () => Date;
  github: GithubAccess;
  events: EventRecorder;
}

/** What the database lacked and GitHub answered, to store with the scope that needed it. */
export interface CheckedScope {
  scope: RepositoryScope;
  fetched: InstallationRepository[] | null;
}

/** Whether `after` reaches a repository `before` does not: that needs the linking proof again. */
export function widens(before: RepositoryScope, after: RepositoryScope): boolean {
  if (after === "all") return before !== "all";
  if (before === "all") return false;
  const had = new Set(before);
  return after.some((id) => !had.has(id));
}

/** Ids once each, in order, as answers and events carry them. */
export const normalScope = (scope: RepositoryScope): RepositoryScope => (scope === "all" ? "all" : [...new Set(scope)].sort((a, b) => a - b));

function sameScope(a: RepositoryScope, b: RepositoryScope): boolean {
  if (a === "all" || b === "all") return a === b;
  return !widens(a, b) && !widens(b, a);
}

/**
 * The repository scope of links. A listed repository must be one of the installation's; when the
 * database does not know them all (no webhook yet, or a late one) GitHub is asked, as the
 * installation, before anything is refused.
 */
export function createLinkScopes({ db, now, github, events }: LinkScopesDeps) {
  async function check(installationId: number, scope: RepositoryScope): Promise<CheckedScope> {
    if (scope === "all" || (await repositoryIdsOutside(db, installationId, scope)).length === 0) return { scope, fetched: null };
    // GitHub refuses a suspended installation's tokens: say why rather than pass its refusal on.
    const installation = await findInstallation(db, installationId);
    if (installation?.suspendedAt) {
      throw new AppError("installation_suspended", `The installation on ${installation.account.login} is suspended; its repositories cannot be listed until an owner unsuspends it on GitHub`);
    }
    const fetched = (await github.asInstallation(installationId, listReachableRepositories)).map(toRepository);
    const onGithub = new Set(fetched.map((r) => r.id));
    const outside = (await repositoryIdsOutside(db, installationId, scope)).filter((id) => !onGithub.has(id));
    if (outside.length > 0) {
      throw new AppError("invalid_input", `Not repositories of installation ${installationId}: ${outside.join(", ")}`, { details: { outside } });
    }
    return { scope, fetched };
  }

  async function storeFetched(trx: Knex.Transaction, installationId: number, checked: CheckedScope): Promise<void> {
    if (!checked.fetched) return;
    // GitHub's answer now: a repository it lists is the installation's again, whatever left before.
    await clearDepartures(trx, installationId, checked.fetched.map((r) => r.id));
    await addInstallationRepositories(trx, installationId, checked.fetched);
  }

  /** Stores the scope in the caller's transaction, audited and sent to the platform when it changed. */
  async function write(trx: Knex.Transaction, actor: Actor, teamId: number, installationId: number, checked: CheckedScope, before: RepositoryScope): Promise<void> {
    await storeFetched(trx, installationId, checked);
    if (sameScope(before, checked.scope)) return;
    const after = normalScope(checked.scope);
    await writeScope(trx, teamId, installationId, after);
    await appendAuditEvents(
      trx,
      [{ teamId, installationId, ...auditActorOf(actor), action: "team.installation.scope_changed", data: { before, after } }],
      now(),
    );
    await events.record(trx, [
      { type: "team.installation.scope_changed", teamId, subject: `installation:${installationId}`, data: { teamId, installationId, repositories: after } },
    ]);
  }

  /** The link's scope, read under a lock in a transaction (Postgres; SQLite has one writer); null when not linked. */
  async function current(trx: Knex.Transaction | Knex, teamId: number, installationId: number, lock = false): Promise<RepositoryScope | null> {
    if (lock && isPostgres(trx)) {
      await trx("team_installations").where({ team_id: teamId, installation_id: installationId }).forUpdate().first();
    }
    return (await scopesOfTeam(trx, teamId, installationId)).get(installationId) ?? null;
  }

  return { check, storeFetched, write, current };
}

export type LinkScopes = ReturnType<typeof createLinkScopes>;
