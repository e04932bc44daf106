import type { Knex } from "knex";
import { InstallationSnapshot, upsertInstallation } from "../../src/repositories/installations";
import { insertLink } from "../../src/repositories/links";
import { createTeam, Team } from "../../src/repositories/teams";
import { ORG } from "../fixtures/payloads";

const NOW = new Date("2026-11-20T12:00:00Z");

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
