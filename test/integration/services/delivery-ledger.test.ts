import type { Knex } from "knex";
import { appendAuditEvents, listAuditEvents } from "../../../src/repositories/audit-events";
import { findInstallation, upsertInstallation } from "../../../src/repositories/installations";
import { hasDelivery } from "../../../src/repositories/webhook-deliveries";
import { createDeliveryLedger, DeliveryLedger } from "../../../src/services/events/delivery-ledger";
import { describeEachDatabase } from "../../helpers/databases";
import { auditEvent, countRows, delivery, NOW, snapshot } from "../../helpers/factories";

describeEachDatabase("delivery ledger", ({ db }) => {
  let ledger: DeliveryLedger;
  beforeEach(() => {
    ledger = createDeliveryLedger(db(), () => NOW);
  });

  /** Work with a visible effect: one audit event per run, so applying twice shows as two rows. */
  const auditOnce = (action: string) => async (trx: Knex.Transaction) => {
    await appendAuditEvents(trx, [auditEvent({ action })], NOW);
  };

  test("a new delivery is applied: its id and the work's writes are stored together", async () => {
    expect(await ledger(delivery("d-1"), auditOnce("first"))).toBe("applied");

    expect(await hasDelivery(db(), "d-1")).toBe(true);
    expect((await listAuditEvents(db(), {})).map((e) => e.action)).toEqual(["first"]);
  });

  test("a replayed delivery id returns duplicate and does not run the work again", async () => {
    await ledger(delivery("d-1"), auditOnce("first"));
    const work = jest.fn(auditOnce("replayed"));

    expect(await ledger(delivery("d-1"), work)).toBe("duplicate");

    expect(work).not.toHaveBeenCalled();
    expect((await listAuditEvents(db(), {})).map((e) => e.action)).toEqual(["first"]);
  });

  test("the work's own outcome is returned and its delivery id is still recorded", async () => {
    expect(await ledger(delivery("d-1"), async () => "ignored")).toBe("ignored");
    expect(await hasDelivery(db(), "d-1")).toBe(true);
  });

  test("when the work throws, neither the delivery id nor the work's writes are kept, and a redelivery applies it", async () => {
    const failing = async (trx: Knex.Transaction) => {
      await upsertInstallation(trx, snapshot(1), NOW);
      await appendAuditEvents(trx, [auditEvent({ action: "half-done" })], NOW);
      throw new Error("GitHub said no");
    };
    await expect(ledger(delivery("d-1"), failing)).rejects.toThrow("GitHub said no");

    expect(await hasDelivery(db(), "d-1")).toBe(false);
    expect(await findInstallation(db(), 1)).toBeUndefined();
    expect(await countRows(db(), "audit_events")).toBe(0);

    const redelivered = async (trx: Knex.Transaction) => {
      await upsertInstallation(trx, snapshot(1), NOW);
    };
    expect(await ledger(delivery("d-1"), redelivered)).toBe("applied");
    expect(await findInstallation(db(), 1)).toBeDefined();
    expect(await hasDelivery(db(), "d-1")).toBe(true);
  });

  test("when the work fails on a unique constraint of its own, the ledger rethrows rather than calling it a duplicate", async () => {
    await upsertInstallation(db(), snapshot(1), NOW);
    const clashing = async (trx: Knex.Transaction) => {
      await appendAuditEvents(trx, [auditEvent({ action: "half-done" })], NOW);
      // A plain insert of an existing primary key: a bug in the work, not a replayed delivery.
      await trx("installation_tombstones").insert({ installation_id: 1, deleted_at: NOW.toISOString() });
      await trx("installation_tombstones").insert({ installation_id: 1, deleted_at: NOW.toISOString() });
    };

    await expect(ledger(delivery("d-1"), clashing)).rejects.toThrow();

    expect(await hasDelivery(db(), "d-1")).toBe(false);
    expect(await countRows(db(), "audit_events")).toBe(0);
    expect(await ledger(delivery("d-1"), auditOnce("retried"))).toBe("applied");
  });

  test("two concurrent deliveries with the same id apply the work once", async () => {
    let runs = 0;
    const slowWork = async (trx: Knex.Transaction) => {
      runs++;
      // Hold the transaction open so the other copy arrives while this one is still running.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await appendAuditEvents(trx, [auditEvent({ action: "applied" })], NOW);
    };

    const outcomes = await Promise.all([ledger(delivery("d-1"), slowWork), ledger(delivery("d-1"), slowWork)]);

    expect(outcomes.sort()).toEqual(["applied", "duplicate"]);
    expect(runs).toBe(1);
    expect(await countRows(db(), "audit_events")).toBe(1);
    expect(await countRows(db(), "webhook_deliveries")).toBe(1);
  });

  test("two concurrent deliveries with different ids are both applied", async () => {
    const outcomes = await Promise.all([ledger(delivery("d-1"), auditOnce("one")), ledger(delivery("d-2"), auditOnce("two"))]);

    expect(outcomes).toEqual(["applied", "applied"]);
    expect((await listAuditEvents(db(), {})).map((e) => e.action).sort()).toEqual(["one", "two"]);
  });
});
