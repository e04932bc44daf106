import type { Knex } from "knex";
import type { AuditEventInput } from "../../src/repositories/audit-events";
import type { StoredRepository } from "../../src/repositories/installation-repositories";
import { InstallationSnapshot, upsertInstallation } from "../../src/repositories/installations";
import { insertLink } from "../../src/repositories/links";
import type { CurrentPlan, MarketplaceAccount } from "../../src/repositories/marketplace-plans";
import { createTeam, Team } from "../../src/repositories/teams";
import type { DeliveryRecord } from "../../src/repositories/webhook-deliveries";
import { ORG } from "../fixtures/payloads";

/** The clock every factory writes with; `minutesAfterNow` gives later instants. */
export const NOW = new Date("2026-11-20T12:00:00Z");

export function minutesAfterNow(minutes: number): Date {
  return new Date(NOW.getTime() + minutes * 60_000);
}

export function snapshot(id: number, overrides: Partial<InstallationSnapshot> = {}): InstallationSnapshot {
  return {
    id,
    account: { id: ORG.id + id, login: `org-${id}`, type: "Organization", avatarUrl: null },
    targetType: "Organization",
    repositorySelection: "all",
    permissions: { contents: "write", metadata: "read" },
    events: [],
    suspendedAt: null,
    suspendedBy: null,
    githubUpdatedAt: new Date("2026-11-01T10:00:00Z"),
    ...overrides,
  };
}

export async function seedInstallation(db: Knex, id: number, overrides: Partial<InstallationSnapshot> = {}) {
  const s = snapshot(id, overrides);
  await upsertInstallation(db, s, NOW);
  return s;
}

export async function seedTeams(db: Knex, count: number, prefix = "team"): Promise<Team[]> {
  const teams: Team[] = [];
  for (let i = 1; i <= count; i++) teams.push(await createTeam(db, `${prefix}-${i}`, NOW));
  return teams;
}

export async function seedLinks(db: Knex, installationId: number, teams: Team[], linkedBy = 5001): Promise<void> {
  for (const team of teams) await insertLink(db, { teamId: team.id, installationId, linkedBy, linkedAt: NOW });
}

/**
 * `count` repositories with consecutive ids from `firstId`; names are zero-padded so that ordering
 * by full name is the same as ordering by id, on any collation.
 */
export function repositories(count: number, options: { firstId?: number; owner?: string } = {}): StoredRepository[] {
  const { firstId = 1, owner = "acme" } = options;
  return Array.from({ length: count }, (_, i) => ({ ...storedRepository(firstId + i, `${owner}/repo-${String(firstId + i).padStart(6, "0")}`), private: i % 2 === 0 }));
}

/** A repository as stored from an installation webhook: owner and name from the full name, the rest unknown. */
export function storedRepository(id: number, fullName: string, isPrivate = true): StoredRepository {
  const [owner, name] = fullName.split("/");
  return { id, owner, name, fullName, private: isPrivate, archived: null, defaultBranch: null };
}

export function delivery(id: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return { id, event: "installation", action: "created", installationId: null, ...overrides };
}

export function auditEvent(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return { teamId: null, installationId: null, actor: { type: "system", id: null }, action: "test.event", ...overrides };
}

export function marketplaceAccount(overrides: Partial<MarketplaceAccount> = {}): MarketplaceAccount {
  return { id: ORG.id, login: ORG.login, type: ORG.type, ...overrides };
}

export function currentPlan(overrides: Partial<CurrentPlan> = {}): CurrentPlan {
  return {
    planId: 1,
    planName: "Free",
    billingCycle: "monthly",
    unitCount: 1,
    onFreeTrial: false,
    freeTrialEndsOn: null,
    nextBillingDate: new Date("2026-12-01T00:00:00Z"),
    ...overrides,
  };
}

/** Rows in a table, as a number on either database (pg answers count(*) with a string). */
export async function countRows(db: Knex, table: string): Promise<number> {
  return Number((await db(table).count({ n: "*" }))[0].n);
}
