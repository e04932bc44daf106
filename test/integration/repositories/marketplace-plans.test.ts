import { findPlan, markCancelled, setCurrentPlan, setPendingChange } from "../../../src/repositories/marketplace-plans";
import { describeEachDatabase } from "../../helpers/databases";
import { countRows, currentPlan, marketplaceAccount, minutesAfterNow, NOW } from "../../helpers/factories";

const ACCOUNT = marketplaceAccount();
const PRO = { planId: 2, planName: "Pro", billingCycle: "yearly", unitCount: 10 };
const EFFECTIVE = new Date("2027-01-01T00:00:00Z");

describeEachDatabase("marketplace plans repository", ({ db }) => {
  test("findPlan returns undefined for an account without a plan", async () => {
    expect(await findPlan(db(), ACCOUNT.id)).toBeUndefined();
  });

  test("setCurrentPlan inserts the account's plan with every field mapped back", async () => {
    const plan = currentPlan({ onFreeTrial: true, freeTrialEndsOn: new Date("2026-12-14T00:00:00.500Z"), unitCount: 5 });
    await setCurrentPlan(db(), ACCOUNT, plan, "purchased", NOW);

    expect(await findPlan(db(), ACCOUNT.id)).toEqual({
      account: ACCOUNT,
      ...plan,
      pending: null,
      cancelledAt: null,
      lastAction: "purchased",
    });
  });

  test("setCurrentPlan stores null billing cycle, unit count and dates as null", async () => {
    await setCurrentPlan(
      db(),
      ACCOUNT,
      currentPlan({ billingCycle: null, unitCount: null, nextBillingDate: null }),
      "purchased",
      NOW,
    );
    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({
      billingCycle: null,
      unitCount: null,
      onFreeTrial: false,
      freeTrialEndsOn: null,
      nextBillingDate: null,
    });
  });

  test("setCurrentPlan replaces the plan and clears a pending change and a cancellation", async () => {
    await setCurrentPlan(db(), ACCOUNT, currentPlan(), "purchased", NOW);
    await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW);
    await markCancelled(db(), ACCOUNT.id, EFFECTIVE, NOW);

    await setCurrentPlan(db(), { ...ACCOUNT, login: "acme-renamed" }, currentPlan({ ...PRO }), "changed", minutesAfterNow(1));

    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({
      account: { ...ACCOUNT, login: "acme-renamed" },
      ...PRO,
      pending: null,
      cancelledAt: null,
      lastAction: "changed",
    });
    expect(await countRows(db(), "marketplace_plans")).toBe(1);
  });

  test("setCurrentPlan with keepPending keeps the pending change and the cancellation", async () => {
    await setCurrentPlan(db(), ACCOUNT, currentPlan(), "purchased", NOW);
    await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW);
    await markCancelled(db(), ACCOUNT.id, EFFECTIVE, NOW);
    await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW);

    await setCurrentPlan(db(), ACCOUNT, currentPlan({ unitCount: 3 }), "pending_change", minutesAfterNow(1), true);

    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({
      planId: 1,
      unitCount: 3,
      pending: { ...PRO, effectiveDate: EFFECTIVE },
      cancelledAt: EFFECTIVE,
    });
  });

  test("setPendingChange records the pending plan with its effective date and keeps the current plan", async () => {
    await setCurrentPlan(db(), ACCOUNT, currentPlan(), "purchased", NOW);

    expect(await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW)).toBe(1);

    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({
      planId: 1,
      planName: "Free",
      pending: { ...PRO, effectiveDate: EFFECTIVE },
      lastAction: "pending_change",
    });
  });

  test("setPendingChange with null clears the pending plan", async () => {
    await setCurrentPlan(db(), ACCOUNT, currentPlan(), "purchased", NOW);
    await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW);

    await setPendingChange(db(), ACCOUNT.id, null, "pending_change_cancelled", NOW);

    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({ planId: 1, pending: null, lastAction: "pending_change_cancelled" });
  });

  test("markCancelled sets cancelledAt, clears the pending change and keeps the plan", async () => {
    await setCurrentPlan(db(), ACCOUNT, currentPlan(), "purchased", NOW);
    await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW);

    expect(await markCancelled(db(), ACCOUNT.id, EFFECTIVE, NOW)).toBe(1);

    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({
      planId: 1,
      pending: null,
      cancelledAt: EFFECTIVE,
      lastAction: "cancelled",
    });
  });

  test("setPendingChange and markCancelled of an account without a plan create nothing and return 0", async () => {
    expect(await setPendingChange(db(), ACCOUNT.id, { ...PRO, effectiveDate: EFFECTIVE }, "pending_change", NOW)).toBe(0);
    expect(await markCancelled(db(), ACCOUNT.id, EFFECTIVE, NOW)).toBe(0);
    expect(await countRows(db(), "marketplace_plans")).toBe(0);
  });

  test("plans of different accounts are kept apart, account and plan ids above 2^31 included", async () => {
    const big = marketplaceAccount({ id: 3_000_000_000, login: "big", type: "User" });
    await setCurrentPlan(db(), ACCOUNT, currentPlan(), "purchased", NOW);
    await setCurrentPlan(db(), big, currentPlan({ planId: 3_000_000_001, planName: "Huge" }), "purchased", NOW);
    await markCancelled(db(), big.id, EFFECTIVE, NOW);

    expect(await findPlan(db(), big.id)).toMatchObject({ account: big, planId: 3_000_000_001, cancelledAt: EFFECTIVE });
    expect(await findPlan(db(), ACCOUNT.id)).toMatchObject({ planId: 1, cancelledAt: null });
  });
});
