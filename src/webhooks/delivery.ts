import type { Delivery } from "../services/events/delivery-ledger";
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

/**
 * A correctly signed delivery about another app's installation (two apps sharing a webhook
 * secret or endpoint) must not become one of ours. Logged and acknowledged, nothing stored.
 */
export function forAnotherApp<E extends WebhookEventName>(context: DeliveryContext<E>, appId: number | undefined): boolean {
  const installationAppId = (context.payload as { installation?: { app_id?: number } }).installation?.app_id;
  if (appId === undefined || installationAppId === undefined || installationAppId === appId) return false;
  logOutcome(context, `ignored: installation of app ${installationAppId}, not ${appId}`);
  return true;
}
