import type { Knex } from "knex";
import { appendAuditEvents } from "../../src/repositories/audit-events";
import { upsertGithubUser } from "../../src/repositories/github-users";
import { insertOAuthState } from "../../src/repositories/oauth-states";
import { countRateLimitHit } from "../../src/repositories/rate-limits";
import { dbTime } from "../../src/repositories/rows";
import { insertSession } from "../../src/repositories/sessions";
import { ALICE } from "./users";

const minutes = (at: Date, n: number) => new Date(at.getTime() + n * 60_000);
/** The default EVENT_RETENTION. */
const RETENTION_MINUTES = 7 * 24 * 60;

/**
 * In each table housekeeping purges, one row that expired a minute before `at` and one that
 * expires a minute after it; `remaining` lists which are left, by the names given here. Outbox
 * events: delivered a minute beyond the default retention (7 days) and a minute within it, each
 * naming a GitHub payload of its own; and a failed and a pending event older than both, which
 * stay, the failed one keeping its payload. Audit rows of routed events: one written a minute
 * beyond the retention and one a minute within it; and one of the team's own older than both,
 * which stays. Written in one transaction: a purge running meanwhile (the timer under npm start)
 * sees all of them or none, never a payload whose event is not written yet.
 */
export async function seedExpiringRows(knex: Knex, at: Date): Promise<void> {
  await knex.transaction((trx) => seedAll(trx, at));
}

async function seedAll(db: Knex.Transaction, at: Date): Promise<void> {
  await upsertGithubUser(db, { id: ALICE.id, login: ALICE.login, name: null, avatarUrl: null }, at);
  for (const [name, expiresAt] of [["expired", minutes(at, -1)], ["live", minutes(at, 1)]] as const) {
    const state = { purpose: "login" as const, returnTo: "/", teamId: null, githubUserId: null, createdAt: minutes(expiresAt, -10), expiresAt };
    await insertOAuthState(db, { stateHash: `${name}-state`, ...state });
    await insertSession(db, { idHash: `${name}-session`, githubUserId: ALICE.id, createdAt: minutes(expiresAt, -60), expiresAt });
    await countRateLimitHit(db, `${name}-window`, minutes(expiresAt, -1), expiresAt);
    await seedEvent(db, `${name}-delivered`, "delivered", minutes(expiresAt, -RETENTION_MINUTES));
    await appendAuditEvents(db, [routedAudit(`${name}-routed`)], minutes(expiresAt, -RETENTION_MINUTES));
  }
  const linked = { teamId: 1, installationId: 1, actor: { type: "user" as const, id: ALICE.id }, action: "team.installation.linked", data: { name: "old-linked" } };
  await appendAuditEvents(db, [linked], minutes(at, -2 * RETENTION_MINUTES));
  await seedEvent(db, "old-failed", "failed", null, minutes(at, -2 * RETENTION_MINUTES));
  await seedEvent(db, "old-pending", "pending", null, minutes(at, -2 * RETENTION_MINUTES), false);
}

function routedAudit(name: string) {
  const data = { name, deliveryId: `${name}-delivery`, event: "push", action: null, repository: null, outcome: "delivered", attempts: 1 };
  return { teamId: 1, installationId: 1, actor: { type: "github" as const, id: null }, action: "github.push", data };
}

async function seedEvent(db: Knex.Transaction, name: string, status: string, deliveredAt: Date | null, createdAt = deliveredAt!, withPayload = true): Promise<void> {
  if (withPayload) {
    await db("github_event_payloads").insert({ delivery_id: `${name}-delivery`, installation_id: 1, event: "push", payload: "{}", created_at: dbTime(createdAt) });
  }
  await db("outbox_events").insert({
    message_id: `msg_${name}`,
    type: "github.push",
    ordering_key: "team:1:repo:1",
    team_id: 1,
    payload: JSON.stringify({ id: `msg_${name}`, type: "github.push", occurredAt: createdAt.toISOString(), data: { payload: null } }),
    status,
    attempts: 1,
    next_attempt_at: dbTime(createdAt),
    give_up_at: dbTime(createdAt),
    created_at: dbTime(createdAt),
    delivered_at: dbTime(deliveredAt),
    github_delivery_id: withPayload ? `${name}-delivery` : null,
  });
}

export async function remainingExpiringRows(db: Knex): Promise<Record<keyof typeof ONLY_LIVE_ROWS, string[]>> {
  return {
    oauthStates: (await db("oauth_states").pluck("state_hash")).sort(),
    sessions: (await db("sessions").pluck("id_hash")).sort(),
    rateLimits: (await db("rate_limits").pluck("bucket")).sort(),
    events: (await db("outbox_events").pluck("message_id")).sort(),
    githubPayloads: (await db("github_event_payloads").pluck("delivery_id")).sort(),
    auditEvents: (await db("audit_events").pluck("data")).map((d: string) => JSON.parse(d).name as string).sort(),
  };
}

export const ONLY_LIVE_ROWS = {
  oauthStates: ["live-state"],
  sessions: ["live-session"],
  rateLimits: ["live-window"],
  events: ["msg_live-delivered", "msg_old-failed", "msg_old-pending"],
  githubPayloads: ["live-delivered-delivery", "old-failed-delivery"],
  auditEvents: ["live-routed", "old-linked"],
};
