import { routableEventNames } from "../github/routable-events";
import type { GithubEvent, TeamEvents } from "../services/events/team-events";
import { deliveryOf, forAnotherApp, logOutcome } from "./delivery";
import type { DeliveryContext, WebhookApp, WebhookEventName } from "./dispatcher";

// Kept by src/webhooks/repository.ts, which routes it in the same transaction (one ledger entry per delivery).
const ROUTED_ELSEWHERE = ["repository"];

/**
 * The delivery as an event to route; undefined when it names no installation (then it was not
 * sent for one of this app's installations, and no link can route it).
 */
export function githubEventOf<E extends WebhookEventName>(context: DeliveryContext<E>): GithubEvent | undefined {
  const payload = context.payload as { action?: string; installation?: { id: number }; repository?: { id: number; full_name: string } };
  if (!payload.installation) return undefined;
  return {
    deliveryId: context.id,
    installationId: payload.installation.id,
    event: context.name,
    action: payload.action ?? null,
    repository: payload.repository ? { id: payload.repository.id, fullName: payload.repository.full_name } : null,
    // As GitHub sent it, byte for byte, when the body is at hand (not under Probot's middleware).
    payload: context.rawPayload ?? JSON.stringify(context.payload),
  };
}

/** Every event type a team may subscribe to, routed; nothing else is done with them. */
export function registerTeamEventWebhooks(app: WebhookApp, events: TeamEvents, appId: number | undefined): void {
  if (!events.enabled) return;
  const names = routableEventNames().filter((name) => !ROUTED_ELSEWHERE.includes(name)) as WebhookEventName[];
  app.on(names, async (context) => {
    if (forAnotherApp(context, appId)) return;
    const event = githubEventOf(context);
    if (!event) return logOutcome(context, "ignored: no installation");
    logOutcome(context, await events.received(deliveryOf(context), event));
  });
}
