import { hasDelivery, recordDelivery } from "../../../src/repositories/webhook-deliveries";
import { describeEachDatabase } from "../../helpers/databases";
import { countRows, delivery, minutesAfterNow, NOW } from "../../helpers/factories";

describeEachDatabase("webhook deliveries repository", ({ db }) => {
  test("recordDelivery returns true for a new delivery id and false for one already recorded", async () => {
    expect(await recordDelivery(db(), delivery("d-1"), NOW)).toBe(true);
    expect(await recordDelivery(db(), delivery("d-1", { action: "deleted" }), minutesAfterNow(1))).toBe(false);
    expect(await recordDelivery(db(), delivery("d-2"), NOW)).toBe(true);

    expect(await countRows(db(), "webhook_deliveries")).toBe(2);
  });

  test("recordDelivery stores the event, action, installation id and processing time of the first recording", async () => {
    await recordDelivery(db(), delivery("d-1", { event: "installation", action: "created", installationId: 3_000_000_000 }), NOW);
    await recordDelivery(db(), delivery("d-1", { event: "installation", action: "deleted", installationId: 1 }), minutesAfterNow(1));
    await recordDelivery(db(), delivery("d-2", { event: "marketplace_purchase", action: null, installationId: null }), NOW);

    const rows = await db()("webhook_deliveries").orderBy("id");
    expect(rows.map((r) => [r.id, r.event, r.action, r.installation_id === null ? null : Number(r.installation_id)])).toEqual([
      ["d-1", "installation", "created", 3_000_000_000],
      ["d-2", "marketplace_purchase", null, null],
    ]);
    expect(new Date(rows[0].processed_at)).toEqual(NOW);
  });

  test("hasDelivery is true for a recorded id only", async () => {
    await recordDelivery(db(), delivery("d-1"), NOW);
    expect(await hasDelivery(db(), "d-1")).toBe(true);
    expect(await hasDelivery(db(), "d-2")).toBe(false);
  });

  test("a delivery recorded in a transaction that rolls back is forgotten and can be recorded again", async () => {
    await expect(
      db().transaction(async (trx) => {
        expect(await recordDelivery(trx, delivery("d-1"), NOW)).toBe(true);
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");

    expect(await hasDelivery(db(), "d-1")).toBe(false);
    expect(await recordDelivery(db(), delivery("d-1"), NOW)).toBe(true);
  });
});
