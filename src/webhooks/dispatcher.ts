// Probot's own types for events (its Context is built on them); type-only, nothing is loaded.
import type { EmitterWebhookEvent, EmitterWebhookEventName } from "@octokit/webhooks";
import type { Logger } from "pino";

/** GitHub's event names: "installation", "installation.created", … */
export type WebhookEventName = EmitterWebhookEventName;

/**
 * What a handler reads of a delivery: the part of Probot's Context that needs no GitHub client,
 * and the body as GitHub sent it when the server read it (not under Probot's own middleware).
 */
export type DeliveryContext<E extends WebhookEventName> = EmitterWebhookEvent<E> & { log: Logger; rawPayload?: string };

/** Where handlers are registered: a Probot (under `probot run` and on Lambda) or a dispatcher. */
export interface WebhookApp {
  on<E extends WebhookEventName>(event: E | E[], handler: (context: DeliveryContext<E>) => Promise<void>): void;
}

export interface ReceivedDelivery {
  id: string;
  name: string;
  payload: { action?: string } & Record<string, unknown>;
  /** The body `payload` was parsed from. */
  rawPayload?: string;
}

export interface WebhookDispatcher extends WebhookApp {
  /** Runs every handler of the delivery's event and event.action; throws when any of them failed. */
  receive(delivery: ReceivedDelivery): Promise<void>;
}

/**
 * Probot's receive builds an installation-authenticated Octokit for every delivery before any
 * handler runs (its webhook transform). Octoplex's handlers only write to the database, so the
 * server's own webhook route, which has verified the signature already, hands deliveries to
 * this dispatcher instead: the same handlers, without a GitHub client per delivery.
 */
export function createWebhookDispatcher(log: Logger): WebhookDispatcher {
  const handlers = new Map<string, Array<(context: DeliveryContext<never>) => Promise<void>>>();
  return {
    on(event, handler) {
      for (const name of Array.isArray(event) ? event : [event]) {
        const list = handlers.get(name) ?? [];
        list.push(handler as (context: DeliveryContext<never>) => Promise<void>);
        handlers.set(name, list);
      }
    },
    async receive({ id, name, payload, rawPayload }) {
      const matched = [...(handlers.get(name) ?? []), ...(payload.action ? (handlers.get(`${name}.${payload.action}`) ?? []) : [])];
      if (matched.length === 0) return;
      const context = { id, name, payload, rawPayload, log: log.child({ name: "event", id }) } as unknown as DeliveryContext<never>;
      const failed = (await Promise.allSettled(matched.map((handler) => handler(context)))).flatMap((r) =>
        r.status === "rejected" ? [r.reason] : [],
      );
      if (failed.length === 1) throw failed[0];
      if (failed.length > 1) throw new AggregateError(failed, `${failed.length} handlers of delivery ${id} failed`);
    },
  };
}
