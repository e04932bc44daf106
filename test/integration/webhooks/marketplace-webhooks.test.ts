import { findPlan } from "../../../src/repositories/marketplace-plans";
import { marketplacePurchaseEvent, ORG, PurchaseFixture, USER } from "../../fixtures/payloads";
import { countRows } from "../../helpers/factories";
import { describeEachServer } from "../../helpers/test-server";

const FREE: PurchaseFixture = { planId: 1, planName: "Free" };
const PRO: PurchaseFixture = { planId: 2, planName: "Pro", unitCount: 10, billingCycle: "yearly" };
const EFFECTIVE = "2027-01-01T00:00:00Z";

describeEachServer("marketplace_purchase webhooks over HTTP", ({ server, db }) => {
  async function send(payload: ReturnType<typeof marketplacePurchaseEvent>, deliveryId?: string) {
    const res = await server().sendWebhook("marketplace_purchase", payload, { deliveryId });
    expect(res.status).toBe(200);
  }

  test("purchased stores the plan id, name, billing cycle, unit count and free trial", async () => {
    await send(
      marketplacePurchaseEvent("purchased", {
        ...PRO,
        onFreeTrial: true,
        freeTrialEndsOn: "2026-12-14T00:00:00Z",
        nextBillingDate: "2026-12-14T00:00:00Z",
      }),
    );

    expect(await findPlan(db(), ORG.id)).toEqual({
      account: { id: ORG.id, login: ORG.login, type: ORG.type },
      planId: 2,
      planName: "Pro",
      billingCycle: "yearly",
      unitCount: 10,
      onFreeTrial: true,
      freeTrialEndsOn: new Date("2026-12-14T00:00:00Z"),
      nextBillingDate: new Date("2026-12-14T00:00:00Z"),
      pending: null,
      cancelledAt: null,
      lastAction: "purchased",
    });
  });

  test("purchases by two accounts are stored apart", async () => {
    await send(marketplacePurchaseEvent("purchased", FREE));
    await send(marketplacePurchaseEvent("purchased", { ...PRO, account: USER }));

    expect(await findPlan(db(), ORG.id)).toMatchObject({ planName: "Free", account: { login: ORG.login } });
    expect(await findPlan(db(), USER.id)).toMatchObject({ planName: "Pro", account: { login: USER.login, type: "User" } });
  });

  test("pending_change keeps the current plan and records the pending plan with its effective date", async () => {
    await send(marketplacePurchaseEvent("purchased", FREE));
    await send(marketplacePurchaseEvent("pending_change", PRO, FREE, EFFECTIVE));

    expect(await findPlan(db(), ORG.id)).toMatchObject({
      planId: 1,
      planName: "Free",
      billingCycle: "monthly",
      unitCount: 1,
      pending: { planId: 2, planName: "Pro", billingCycle: "yearly", unitCount: 10, effectiveDate: new Date(EFFECTIVE) },
      cancelledAt: null,
      lastAction: "pending_change",
    });
  });

  test("pending_change_cancelled clears the pending plan and keeps the current one", async () => {
    await send(marketplacePurchaseEvent("purchased", FREE));
    await send(marketplacePurchaseEvent("pending_change", PRO, FREE, EFFECTIVE));
    await send(marketplacePurchaseEvent("pending_change_cancelled", FREE));

    expect(await findPlan(db(), ORG.id)).toMatchObject({
      planId: 1,
      planName: "Free",
      pending: null,
      lastAction: "pending_change_cancelled",
    });
  });

  test("changed replaces the plan and clears the pending change", async () => {
    await send(marketplacePurchaseEvent("purchased", FREE));
    await send(marketplacePurchaseEvent("pending_change", PRO, FREE, EFFECTIVE));
    await send(marketplacePurchaseEvent("changed", PRO, FREE, EFFECTIVE));

    expect(await findPlan(db(), ORG.id)).toMatchObject({
      planId: 2,
      planName: "Pro",
      billingCycle: "yearly",
      unitCount: 10,
      pending: null,
      cancelledAt: null,
      lastAction: "changed",
    });
  });

  test("cancelled keeps the plan and sets cancelledAt to the effective date", async () => {
    await send(marketplacePurchaseEvent("purchased", PRO));
    await send(marketplacePurchaseEvent("cancelled", PRO, undefined, EFFECTIVE));

    expect(await findPlan(db(), ORG.id)).toMatchObject({
      planId: 2,
      planName: "Pro",
      pending: null,
      cancelledAt: new Date(EFFECTIVE),
      lastAction: "cancelled",
    });
  });

  test("a replayed delivery id changes nothing, even after a later change", async () => {
    await send(marketplacePurchaseEvent("purchased", FREE), "m-1");
    await send(marketplacePurchaseEvent("changed", PRO, FREE), "m-2");
    const before = await findPlan(db(), ORG.id);

    await send(marketplacePurchaseEvent("purchased", FREE), "m-1");

    expect(await findPlan(db(), ORG.id)).toEqual(before);
    expect(before).toMatchObject({ planName: "Pro", lastAction: "changed" });
    expect(await countRows(db(), "webhook_deliveries")).toBe(2);
  });

  test("a bad signature gets 401 and stores no plan", async () => {
    const res = await server().sendWebhook("marketplace_purchase", marketplacePurchaseEvent("purchased", FREE), {
      secret: "not-the-secret",
    });
    expect(res.status).toBe(401);
    expect(await countRows(db(), "marketplace_plans")).toBe(0);
    expect(await countRows(db(), "webhook_deliveries")).toBe(0);
  });
});
