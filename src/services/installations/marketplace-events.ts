import {
  CurrentPlan,
  MarketplaceAccount,
  markCancelled,
  PlanTerms,
  setCurrentPlan,
  setPendingChange,
} from "../../repositories/marketplace-plans";
import type { Delivery, DeliveryLedger } from "../events/delivery-ledger";

export interface MarketplaceChange {
  action: "purchased" | "changed" | "cancelled" | "pending_change" | "pending_change_cancelled";
  account: MarketplaceAccount;
  /** The purchase the event is about: the new plan for purchased, changed and pending_change. */
  purchase: CurrentPlan;
  /** The plan in force before the event, when GitHub sends it. */
  previous: CurrentPlan | null;
  effectiveDate: Date | null;
}

/** Keeps each account's Marketplace plan as GitHub's marketplace_purchase events describe it. */
export function createMarketplaceEvents({ ledger, now }: { ledger: DeliveryLedger; now: () => Date }) {
  return {
    apply(delivery: Delivery, change: MarketplaceChange) {
      return ledger(delivery, async (trx) => {
        const { account, action } = change;
        switch (action) {
          case "purchased":
          case "changed":
            await setCurrentPlan(trx, account, change.purchase, action, now());
            return;
          case "pending_change": {
            // The plan in force stays until the effective date; keep it and record what comes next.
            await setCurrentPlan(trx, account, change.previous ?? change.purchase, action, now(), true);
            const pending: PlanTerms & { effectiveDate: Date | null } = {
              planId: change.purchase.planId,
              planName: change.purchase.planName,
              billingCycle: change.purchase.billingCycle,
              unitCount: change.purchase.unitCount,
              effectiveDate: change.effectiveDate,
            };
            await setPendingChange(trx, account.id, pending, action, now());
            return;
          }
          case "pending_change_cancelled":
            await setCurrentPlan(trx, account, change.purchase, action, now(), true);
            await setPendingChange(trx, account.id, null, action, now());
            return;
          case "cancelled":
            await setCurrentPlan(trx, account, change.purchase, action, now(), true);
            await markCancelled(trx, account.id, change.effectiveDate ?? now(), now());
            return;
        }
      });
    },
  };
}

export type MarketplaceEvents = ReturnType<typeof createMarketplaceEvents>;
