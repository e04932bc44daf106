import type { CurrentPlan } from "../repositories/marketplace-plans";
import type { MarketplaceChange, MarketplaceEvents } from "../services/installations/marketplace-events";
import { deliveryOf, logOutcome } from "./delivery";
import type { WebhookApp } from "./dispatcher";

interface GithubPurchase {
  account: { id: number; login: string; type: string };
  billing_cycle?: string | null;
  unit_count?: number | null;
  on_free_trial?: boolean | null;
  free_trial_ends_on?: string | null;
  next_billing_date?: string | null;
  plan: { id: number; name: string };
}

const date = (value: string | null | undefined) => (value ? new Date(value) : null);

function toPlan(purchase: GithubPurchase): CurrentPlan {
  return {
    planId: purchase.plan.id,
    planName: purchase.plan.name,
    billingCycle: purchase.billing_cycle ?? null,
    unitCount: purchase.unit_count ?? null,
    onFreeTrial: Boolean(purchase.on_free_trial),
    freeTrialEndsOn: date(purchase.free_trial_ends_on),
    nextBillingDate: date(purchase.next_billing_date),
  };
}

export function registerMarketplaceWebhooks(app: WebhookApp, marketplace: MarketplaceEvents): void {
  app.on("marketplace_purchase", async (context) => {
    const payload = context.payload as unknown as {
      action: MarketplaceChange["action"];
      effective_date?: string;
      marketplace_purchase: GithubPurchase;
      previous_marketplace_purchase?: GithubPurchase;
    };
    const purchase = payload.marketplace_purchase;
    const outcome = await marketplace.apply(deliveryOf(context), {
      action: payload.action,
      account: { id: purchase.account.id, login: purchase.account.login, type: purchase.account.type },
      purchase: toPlan(purchase),
      previous: payload.previous_marketplace_purchase ? toPlan(payload.previous_marketplace_purchase) : null,
      effectiveDate: date(payload.effective_date),
    });
    logOutcome(context, outcome);
  });
}
