import { createHmac } from "node:crypto";
import { installationEvent } from "../fixtures/payloads";
import { TEST_WEBHOOK_SECRET } from "../helpers/config";
import { countRows } from "../helpers/factories";
import { describeEachServer, sign } from "../helpers/test-server";

describeEachServer("hostile webhook deliveries", ({ server, db }) => {
  const stored = async () => ({
    installations: await countRows(db(), "installations"),
    deliveries: await countRows(db(), "webhook_deliveries"),
  });
  const NOTHING = { installations: 0, deliveries: 0 };

  async function post(body: string, headers: Record<string, string>) {
    return fetch(`${server().url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "d-hostile", ...headers },
      body,
    });
  }

  test("a delivery signed only with the legacy sha1 signature is refused with 401 and stores nothing", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 801 }));
    const sha1 = `sha1=${createHmac("sha1", TEST_WEBHOOK_SECRET).update(body).digest("hex")}`;
    const res = await post(body, { "x-hub-signature": sha1 });
    expect(res.status).toBe(401);
    expect(await stored()).toEqual(NOTHING);
  });

  test("a valid signature over a different body is refused with 401 and stores nothing", async () => {
    const signed = JSON.stringify(installationEvent("created", { id: 802 }));
    const sent = JSON.stringify(installationEvent("created", { id: 803 }));
    const res = await post(sent, { "x-hub-signature-256": sign(signed) });
    expect(res.status).toBe(401);
    expect(await stored()).toEqual(NOTHING);
  });

  test("a 30 MB body is refused with 413 before anything is parsed or stored", async () => {
    const body = JSON.stringify({ action: "created", padding: "x".repeat(30 * 1024 * 1024) });
    const res = await post(body, { "x-hub-signature-256": sign(body) });
    expect(res.status).toBe(413);
    expect(await stored()).toEqual(NOTHING);
  });

  test("a correctly signed delivery about another app's installation is acknowledged and stores nothing", async () => {
    const payload = installationEvent("created", { id: 804 });
    payload.installation.app_id = 99999;
    const res = await server().sendWebhook("installation", payload);
    expect(res.status).toBe(200);
    expect(await stored()).toEqual(NOTHING);
  });

  test("a replayed delivery id is acknowledged and changes nothing", async () => {
    const first = installationEvent("created", { id: 805 });
    expect((await server().sendWebhook("installation", first, { deliveryId: "d-replay" })).status).toBe(200);
    const replay = installationEvent("suspend", { id: 805, suspendedAt: "2026-11-02T09:00:00Z", suspendedBy: "mallory", updatedAt: "2026-11-03T00:00:00Z" });
    expect((await server().sendWebhook("installation", replay, { deliveryId: "d-replay" })).status).toBe(200);
    expect(await db()("installations").where({ id: 805 }).first("suspended_at")).toEqual({ suspended_at: null });
    expect(await stored()).toEqual({ installations: 1, deliveries: 1 });
  });
});
