import type { Knex } from "knex";
import { AppError } from "../../errors";
import { getAppInstallation, getAppSlug } from "../../github/app-installations";
import { GithubInstallation, toInstallationSnapshot } from "../../github/installation-snapshot";
import { getOrgMembership, listUserInstallations } from "../../github/user-api";
import { appendAuditEvents } from "../../repositories/audit-events";
import { findInstallation, Installation, isTombstoned } from "../../repositories/installations";
import { RepositoryScope, scopesOfTeam, writeScope } from "../../repositories/link-scopes";
import { deleteLink, insertLink, Link, listLinks, listTeamLinksWithInstallations } from "../../repositories/links";
import type { GithubAccess } from "../github-access/github-access";
import { applySnapshot } from "../installations/installation-state";
import { CheckedScope, createLinkScopes, normalScope, widens } from "./link-scopes";
import type { OAuthStates } from "../identity/oauth-states";
import type { EventRecorder } from "../events/platform-events";
import { Actor, auditActorOf, Teams } from "./teams";

export interface LinksDeps {
  db: Knex;
  now: () => Date;
  teams: Teams;
  github: GithubAccess;
  states: OAuthStates;
  /** https://github.com or the GHES origin, for install links. */
  webBaseUrl: string;
  appSlug?: string;
  events: EventRecorder;
}

export interface LinkedInstallation {
  installationId: number;
  account: Installation["account"];
  repositorySelection: string;
  suspended: boolean;
  linkedAt: Date;
  linkedBy: number | null;
  repositories: RepositoryScope;
}

export interface ReachableInstallation {
  installationId: number;
  account: Installation["account"];
  repositorySelection: string;
  suspended: boolean;
  linked: boolean;
  /** The caller may hand it to a team: an active org admin, or the user account itself. */
  linkable: boolean;
}

/** What prove() established with GitHub, for writeLink(). */
export interface LinkProof {
  userId: number;
  installationId: number;
  fetched: GithubInstallation | null;
}

/** The linking proof failed while adding repositories: say that adding is what needs it. */
function rephraseForWidening(error: unknown): never {
  if (error instanceof AppError && error.code === "forbidden") {
    throw new AppError("forbidden", `Adding repositories (or all of them) to a team needs the same proof as connecting the account: ${error.message}`);
  }
  throw error;
}

function userOf(actor: Actor): number {
  if (actor.userId === null) {
    throw new AppError("user_required", "This acts as a GitHub user: send X-Octoplex-User with their GitHub user id");
  }
  return actor.userId;
}

/**
 * Links between teams and installations. A link is written only after GitHub, asked with the
 * caller's own token, shows that the caller reaches the installation AND may give it away: an
 * ordinary org member reaches their org's installation too, and linking would hand the team the
 * app's write access to every repository.
 */
export function createLinks({ db, now, teams, github, states, webBaseUrl, appSlug, events }: LinksDeps) {
  let slug = appSlug;
  const scopes = createLinkScopes({ db, now, github, events });

  async function mayGrant(userId: number, installation: GithubInstallation): Promise<boolean> {
    const account = toInstallationSnapshot(installation).account;
    if (account.type === "User") return account.id === userId;
    if (account.type !== "Organization") return false;
    const membership = await github.asUser(userId, (o) => getOrgMembership(o, account.login));
    return membership?.role === "admin" && membership.state === "active";
  }

  /** mayGrant for many installations, asking GitHub once per account. */
  async function grantableSet(userId: number, installations: GithubInstallation[]): Promise<Set<number>> {
    const byAccount = new Map<number, Promise<boolean>>();
    const result = new Set<number>();
    await Promise.all(
      installations.map(async (installation) => {
        const account = toInstallationSnapshot(installation).account.id;
        let check = byAccount.get(account);
        if (!check) byAccount.set(account, (check = mayGrant(userId, installation)));
        if (await check) result.add(installation.id);
      }),
    );
    return result;
  }

  /** The installation as GitHub has it, after proving the user may link it; 403 otherwise. */
  async function verifyGrantable(userId: number, installationId: number): Promise<GithubInstallation> {
    const reachable = await github.asUser(userId, listUserInstallations);
    const found = reachable.find((i) => i.id === installationId);
    if (!found) throw new AppError("forbidden", `Installation ${installationId} is not one your GitHub account can reach`);
    if (!(await mayGrant(userId, found))) {
      throw new AppError("forbidden", `Only an admin of ${found.account?.login ?? "the account"} may connect its installation to a team`);
    }
    return found;
  }

  async function ensureStored(trx: Knex.Transaction, installationId: number, fetched: GithubInstallation | null): Promise<void> {
    if (await findInstallation(trx, installationId)) return;
    if (!fetched || !(await applySnapshot(trx, toInstallationSnapshot(fetched), now()))) {
      throw new AppError("not_found", `Installation ${installationId} no longer exists on GitHub`);
    }
  }

  /**
   * The GitHub half of a link, before anything is written: the user may give the installation
   * away, and the app's own view of it when the database has none yet (no webhook, or a late one).
   */
  async function prove(userId: number, installationId: number): Promise<LinkProof> {
    await verifyGrantable(userId, installationId);
    const known = await findInstallation(db, installationId);
    const fetched = known ? null : await github.asApp((o) => getAppInstallation(o, installationId));
    return { userId, installationId, fetched };
  }

  /**
   * The database half, in the caller's transaction (with whatever else must stand or fall with it); true when the link is new.
   * A new link gets `checked`'s scope ("all" without one); an existing link keeps its scope unless
   * `checked` names one, which is then a scope change (the proof covers widening).
   */
  async function writeLink(trx: Knex.Transaction, proof: LinkProof, teamId: number, actor: Actor, checked?: CheckedScope): Promise<boolean> {
    const { userId, installationId, fetched } = proof;
    if (await isTombstoned(trx, installationId)) throw new AppError("not_found", `Installation ${installationId} was uninstalled`);
    await ensureStored(trx, installationId, fetched);
    const isNew = await insertLink(trx, { teamId, installationId, linkedBy: userId, linkedAt: now() });
    if (isNew) {
      if (checked) await scopes.storeFetched(trx, installationId, checked);
      const repositories = checked ? normalScope(checked.scope) : "all";
      if (repositories !== "all") await writeScope(trx, teamId, installationId, repositories);
      await appendAuditEvents(trx, [{ teamId, installationId, ...auditActorOf(actor), action: "team.installation.linked", data: { repositories } }], now());
      await events.record(trx, [
        { type: "team.installation.linked", teamId, subject: `installation:${installationId}`, data: { teamId, installationId, linkedBy: userId, repositories } },
      ]);
    } else if (checked) {
      await scopes.write(trx, actor, teamId, installationId, checked, (await scopes.current(trx, teamId, installationId, true)) ?? "all");
    }
    return isNew;
  }

  async function link(actor: Actor, teamId: number, installationId: number, repositories?: RepositoryScope): Promise<{ created: boolean; link: LinkedInstallation }> {
    await teams.access(actor, teamId, "admin");
    const proof = await prove(userOf(actor), installationId);
    const checked = repositories === undefined ? undefined : await scopes.check(installationId, repositories);
    const created = await db.transaction((trx) => writeLink(trx, proof, teamId, actor, checked));
    return { created, link: await describeOne(teamId, installationId) };
  }

  /**
   * PATCH: narrowing (a subset, or a list where it was "all") needs a team admin; widening also
   * what linking needs, proved again with GitHub, so a team admin cannot reach repositories the
   * org admin who linked it left out.
   */
  async function changeScope(actor: Actor, teamId: number, installationId: number, repositories: RepositoryScope): Promise<LinkedInstallation> {
    await teams.access(actor, teamId, "admin");
    const notLinked = () => new AppError("not_found", `Installation ${installationId} is not linked to team ${teamId}`);
    const before = await scopes.current(db, teamId, installationId);
    if (before === null) throw notLinked();
    const proved = widens(before, repositories);
    if (proved) await prove(userOf(actor), installationId).catch(rephraseForWidening);
    const checked = await scopes.check(installationId, repositories);
    await db.transaction(async (trx) => {
      const locked = await scopes.current(trx, teamId, installationId, true);
      if (locked === null) throw notLinked();
      if (!proved && widens(locked, repositories)) throw new AppError("conflict", "The scope changed meanwhile; send the request again");
      await scopes.write(trx, actor, teamId, installationId, checked, locked);
    });
    return describeOne(teamId, installationId);
  }

  async function describeOne(teamId: number, installationId: number): Promise<LinkedInstallation> {
    const linked = (await listForTeam(teamId)).find((l) => l.installationId === installationId);
    if (!linked) throw new AppError("not_found", `Installation ${installationId} is not linked to team ${teamId}`);
    return linked;
  }

  async function listForTeam(teamId: number): Promise<LinkedInstallation[]> {
    const scopeOf = await scopesOfTeam(db, teamId);
    return (await listTeamLinksWithInstallations(db, teamId)).map(({ link, installation }) =>
      describeLink(link, installation, scopeOf.get(installation.id) ?? "all"),
    );
  }

  return {
    verifyGrantable,
    prove,
    writeLink,
    link,
    changeScope,
    /** A scope's repositories are the installation's (GitHub asked when the database lacks some), for writeLink. */
    checkScope: scopes.check,

    async list(actor: Actor, teamId: number): Promise<LinkedInstallation[]> {
      await teams.access(actor, teamId, "member");
      return listForTeam(teamId);
    },

    async unlink(actor: Actor, teamId: number, installationId: number): Promise<void> {
      await teams.access(actor, teamId, "admin");
      await db.transaction(async (trx) => {
        if (!(await deleteLink(trx, teamId, installationId))) {
          throw new AppError("not_found", `Installation ${installationId} is not linked to team ${teamId}`);
        }
        await appendAuditEvents(trx, [{ teamId, installationId, ...auditActorOf(actor), action: "team.installation.unlinked", data: { reason: "user" } }], now());
        await events.record(trx, [
          { type: "team.installation.unlinked", teamId, subject: `installation:${installationId}`, data: { teamId, installationId, reason: "user" } },
        ]);
      });
    },

    /** What the caller can reach on GitHub, marked linked/linkable, plus a link to install on a new account. */
    async available(actor: Actor, teamId: number): Promise<{ installations: ReachableInstallation[]; installUrl: string }> {
      await teams.access(actor, teamId, "member");
      const userId = userOf(actor);
      const reachable = await github.asUser(userId, listUserInstallations);
      const linkedIds = new Set((await listLinks(db, { teamId })).map((l) => l.installationId));
      const grantable = await grantableSet(userId, reachable);
      const installations: ReachableInstallation[] = reachable.map((gh) => {
        const snapshot = toInstallationSnapshot(gh);
        return {
          installationId: snapshot.id,
          account: snapshot.account,
          repositorySelection: snapshot.repositorySelection,
          suspended: snapshot.suspendedAt !== null,
          linked: linkedIds.has(snapshot.id),
          linkable: grantable.has(snapshot.id),
        };
      });
      return { installations, installUrl: await installUrl(teamId, userId) };
    },
  };

  async function installUrl(teamId: number, userId: number): Promise<string> {
    slug ??= await github.asApp(getAppSlug);
    const state = await states.issue("install", { returnTo: `/teams/${teamId}/connect`, teamId, githubUserId: userId });
    return `${webBaseUrl}/apps/${encodeURIComponent(slug)}/installations/new?state=${encodeURIComponent(state)}`;
  }
}

export function describeLink(link: Link, installation: Installation, repositories: RepositoryScope = "all"): LinkedInstallation {
  return {
    installationId: installation.id,
    account: installation.account,
    repositorySelection: installation.repositorySelection,
    suspended: installation.suspendedAt !== null,
    linkedAt: link.linkedAt,
    linkedBy: link.linkedBy,
    repositories,
  };
}

export type Links = ReturnType<typeof createLinks>;
