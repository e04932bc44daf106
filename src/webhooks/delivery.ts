import type { Context } from "probot";
import type { Delivery } from "../services/delivery-ledger";

/** The ledger entry of the delivery a Probot context carries (X-GitHub-Delivery and friends). */
export function deliveryOf(context: Context): Delivery {
  const payload = context.payload as { action?: string; installation?: { id: number } };
  return {
    id: context.id,
    event: context.name,
    action: payload.action ?? null,
    installationId: payload.installation?.id ?? null,
  };
}

/** Logs what a delivery did, so an ignored or duplicate delivery is visible in the logs. */
export function logOutcome(context: Context, outcome: string): void {
  context.log.info({ deliveryId: context.id, event: context.name, outcome }, "webhook handled");
}
