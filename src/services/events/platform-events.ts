import type { Db } from "../../db/knex";
import { insertOutboxEvents, insertOutboxEventsForLinkedTeams, newMessageId } from "../../repositories/outbox";

export type PlatformEventType =
  | "team.installation.linked"
  | "team.installation.unlinked"
  | "team.installation.scope_changed"
  | "installation.suspended"
  | "installation.unsuspended"
  | "installation.deleted"
  | "user.reauthorization_required";

export interface PlatformEvent {
  type: PlatformEventType;
  /** The team it concerns, if one; its events are delivered in order. */
  teamId?: number;
  /** Orders events without a team (an installation's, a user's). */
  subject: string;
  data: Record<string, unknown>;
}

/**
 * Records events for the platform in the caller's transaction (the outbox): the change and its
 * event commit or roll back together. Without PLATFORM_WEBHOOK_URL nothing is recorded.
 */
export interface EventRecorder {
  /** `at`: when they occurred; the recorder's clock when absent. */
  record(db: Db, events: PlatformEvent[], at?: Date): Promise<void>;
  /** One event per team linked to the installation, in each team's order; `data` gets its `teamId`. */
  recordForLinkedTeams(
    db: Db,
    installationId: number,
    event: { type: PlatformEventType; data: Record<string, unknown> },
    at?: Date,
  ): Promise<void>;
}

/** How long an event is retried before it is marked failed. */
export const EVENT_RETRY_FOR_MS = 24 * 60 * 60 * 1000;

export const noEvents: EventRecorder = { record: async () => undefined, recordForLinkedTeams: async () => undefined };

export function createEventRecorder({ now, retryForMs }: { now: () => Date; retryForMs: number }): EventRecorder {
  return {
    async record(db, events, at = now()) {
      await insertOutboxEvents(
        db,
        events.map((e) => {
          const messageId = newMessageId();
          return {
            messageId,
            type: e.type,
            orderingKey: e.teamId !== undefined ? `team:${e.teamId}` : e.subject,
            teamId: e.teamId ?? null,
            payload: { id: messageId, type: e.type, occurredAt: at.toISOString(), data: e.data },
          };
        }),
        at,
        new Date(at.getTime() + retryForMs),
      );
    },
    async recordForLinkedTeams(db, installationId, { type, data }, at = now()) {
      await insertOutboxEventsForLinkedTeams(db, installationId, { type, occurredAt: at.toISOString(), data }, at, new Date(at.getTime() + retryForMs));
    },
  };
}
