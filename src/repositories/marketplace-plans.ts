import type { Db } from "../db/knex";
import { dbTime, toBoolean, toDateOrNull, toNumber, toNumberOrNull } from "./rows";

export interface PlanTerms {
  planId: number;
  planName: string;
  billingCycle: string | null;
  unitCount: number | null;
}

export interface MarketplaceAccount {
  id: number;
  login: string;
  type: string;
}

export interface MarketplacePlan extends PlanTerms {
  account: MarketplaceAccount;
  onFreeTrial: boolean;
  freeTrialEndsOn: Date | null;
  nextBillingDate: Date | null;
  pending: (PlanTerms & { effectiveDate: Date | null }) | null;
  cancelledAt: Date | null;
  lastAction: string;
}

export interface CurrentPlan extends PlanTerms {
  onFreeTrial: boolean;
  freeTrialEndsOn: Date | null;
  nextBillingDate: Date | null;
}

const TABLE = "marketplace_plans";

function mapRow(row: Record<string, unknown>): MarketplacePlan {
  return {
    account: { id: toNumber(row.account_id), login: row.account_login as string, type: row.account_type as string },
    planId: toNumber(row.plan_id),
    planName: row.plan_name as string,
    billingCycle: (row.billing_cycle as string | null) ?? null,
    unitCount: toNumberOrNull(row.unit_count),
    onFreeTrial: toBoolean(row.on_free_trial),
    freeTrialEndsOn: toDateOrNull(row.free_trial_ends_on),
    nextBillingDate: toDateOrNull(row.next_billing_date),
    pending:
      row.pending_plan_id === null || row.pending_plan_id === undefined
        ? null
        : {
            planId: toNumber(row.pending_plan_id),
            planName: row.pending_plan_name as string,
            billingCycle: (row.pending_billing_cycle as string | null) ?? null,
            unitCount: toNumberOrNull(row.pending_unit_count),
            effectiveDate: toDateOrNull(row.pending_effective_date),
          },
    cancelledAt: toDateOrNull(row.cancelled_at),
    lastAction: row.last_action as string,
  };
}

export async function findPlan(db: Db, accountId: number): Promise<MarketplacePlan | undefined> {
  const row = await db(TABLE).where({ account_id: accountId }).first();
  return row ? mapRow(row) : undefined;
}

/** Sets the plan in force now; a purchase or change replaces any pending change and cancellation. */
export async function setCurrentPlan(
  db: Db,
  account: MarketplaceAccount,
  plan: CurrentPlan,
  action: string,
  now: Date,
  keepPending = false,
): Promise<void> {
  const row: Record<string, unknown> = {
    account_login: account.login,
    account_type: account.type,
    plan_id: plan.planId,
    plan_name: plan.planName,
    billing_cycle: plan.billingCycle,
    unit_count: plan.unitCount,
    on_free_trial: plan.onFreeTrial,
    free_trial_ends_on: dbTime(plan.freeTrialEndsOn),
    next_billing_date: dbTime(plan.nextBillingDate),
    last_action: action,
    updated_at: dbTime(now),
  };
  if (!keepPending) Object.assign(row, clearedPending(), { cancelled_at: null });
  await db(TABLE)
    .insert({ account_id: account.id, ...clearedPending(), ...row })
    .onConflict("account_id")
    .merge(Object.keys(row));
}

export async function setPendingChange(
  db: Db,
  accountId: number,
  pending: (PlanTerms & { effectiveDate: Date | null }) | null,
  action: string,
  now: Date,
): Promise<number> {
  const columns = pending
    ? {
        pending_plan_id: pending.planId,
        pending_plan_name: pending.planName,
        pending_billing_cycle: pending.billingCycle,
        pending_unit_count: pending.unitCount,
        pending_effective_date: dbTime(pending.effectiveDate),
      }
    : clearedPending();
  return db(TABLE)
    .where({ account_id: accountId })
    .update({ ...columns, last_action: action, updated_at: dbTime(now) });
}

export async function markCancelled(db: Db, accountId: number, cancelledAt: Date, now: Date): Promise<number> {
  return db(TABLE)
    .where({ account_id: accountId })
    .update({
      cancelled_at: dbTime(cancelledAt),
      ...clearedPending(),
      last_action: "cancelled",
      updated_at: dbTime(now),
    });
}

function clearedPending() {
  return {
    pending_plan_id: null,
    pending_plan_name: null,
    pending_billing_cycle: null,
    pending_unit_count: null,
    pending_effective_date: null,
  };
}
