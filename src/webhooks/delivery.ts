import type { Delivery } from "../services/delivery-ledger";
import type { DeliveryContext, WebhookEventName } from "./dispatcher";

/** The ledger entry of the delivery a Probot context carries (X-GitHub-Delivery and friends). */
export function deliveryOf<E extends WebhookEventName>(context: DeliveryContext<E>): Delivery {
  const payload = context.payload as { action?: string; installation?: { id: number } };
  return {
    id: context.id,
    event: context.name,
    action: payload.action ?? null,
    installationId: payload.installation?.id ?? null,
  };
}

/** Logs what a delivery did, so an ignored or duplicate delivery is visible in the logs. */
export function logOutcome<E extends WebhookEventName>(context: DeliveryContext<E>, outcome: string): void {
  context.log.info({ deliveryId: context.id, event: context.name, outcome }, "webhook handled");
}
