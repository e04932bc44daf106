import { createHmac } from "node:crypto";
import { installationEvent, installationRepositoriesEvent, repository } from "../fixtures/payloads";
import { TEST_WEBHOOK_SECRET } from "../helpers/config";
import { nonEmptyTables, snapshotDatabase } from "../helpers/database-snapshot";
import { seedInstallation, seedLinks, seedTeams } from "../helpers/factories";
import { describeEachServer, sign } from "../helpers/test-server";

describeEachServer("hostile webhook deliveries", ({ server, db }) => {
  /** Every table's rows: a refused delivery leaves them exactly as they were. */
  const stored = () => snapshotDatabase(db());

  async function post(body: string, headers: Record<string, string>) {
    return fetch(`${server().url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "d-hostile", ...headers },
      body,
    });
  }

  async function expectRefused(res: Response, status: number, code: string) {
    expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { error: expect.objectContaining({ code, message: expect.any(String) }) } });
  }

  /** Acme's installation 806 as GitHub told us, linked to a team: what a forged or foreign delivery must not touch. */
  async function ourInstallation() {
    await seedInstallation(db(), 806);
    await seedLinks(db(), 806, await seedTeams(db(), 1));
    return stored();
  }

  test("a delivery without any signature header is refused with 401 and stores nothing", async () => {
    const before = await stored();
    await expectRefused(await post(JSON.stringify(installationEvent("created", { id: 800 })), {}), 401, "unauthenticated");
    expect(await stored()).toEqual(before);
    expect(nonEmptyTables(before)).toEqual({});
  });

  test("a delivery signed with another secret is refused with 401 and stores nothing", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 800 }));
    await expectRefused(await post(body, { "x-hub-signature-256": sign(body, "not-the-webhook-secret") }), 401, "unauthenticated");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test.each([
    ["empty", () => ""],
    ["a bare sha256= prefix", () => "sha256="],
    ["64 zeros", () => `sha256=${"0".repeat(64)}`],
    ["the right digest cut short", (body: string) => sign(body).slice(0, -2)],
    ["the right digest under another algorithm's name", (body: string) => sign(body).replace("sha256=", "sha512=")],
    ["the right digest of the body with a space appended", (body: string) => sign(`${body} `)],
    ["not hex", () => `sha256=${"z".repeat(64)}`],
  ])("a delivery whose X-Hub-Signature-256 is %s is refused with 401 and stores nothing", async (_name, signature) => {
    const body = JSON.stringify(installationEvent("created", { id: 800 }));
    await expectRefused(await post(body, { "x-hub-signature-256": signature(body) }), 401, "unauthenticated");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test("a delivery signed only with the legacy sha1 signature is refused with 401 and stores nothing", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 801 }));
    const sha1 = `sha1=${createHmac("sha1", TEST_WEBHOOK_SECRET).update(body).digest("hex")}`;
    const res = await post(body, { "x-hub-signature": sha1 });
    await expectRefused(res, 401, "unauthenticated");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test("a valid signature over a different body is refused with 401 and stores nothing", async () => {
    const signed = JSON.stringify(installationEvent("created", { id: 802 }));
    const sent = JSON.stringify(installationEvent("created", { id: 803 }));
    const res = await post(sent, { "x-hub-signature-256": sign(signed) });
    await expectRefused(res, 401, "unauthenticated");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test("a forged deleted for an installation we keep (wrong signature) leaves the installation and its links as they were", async () => {
    const before = await ourInstallation();
    const body = JSON.stringify(installationEvent("deleted", { id: 806 }));
    await expectRefused(await post(body, { "x-hub-signature-256": sign(body, "guessed-secret") }), 401, "unauthenticated");
    expect(await stored()).toEqual(before);
  });

  test("a 30 MB body is refused with 413 before anything is parsed or stored", async () => {
    const body = JSON.stringify({ action: "created", padding: "x".repeat(30 * 1024 * 1024) });
    const res = await post(body, { "x-hub-signature-256": sign(body) });
    await expectRefused(res, 413, "payload_too_large");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test.each([
    ["half an object", '{"action": "created", "installation": '],
    ["not JSON at all", "action=created&installation=1"],
    ["a JSON string", '"installation"'],
  ])("a correctly signed body that is %s is refused with 400 invalid_input and stores nothing", async (_name, body) => {
    await expectRefused(await post(body, { "x-hub-signature-256": sign(body) }), 400, "invalid_input");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test("an empty body, even with the signature of the empty string, is refused with 401 and stores nothing", async () => {
    await expectRefused(await post("", { "x-hub-signature-256": sign("") }), 401, "unauthenticated");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test("a correctly signed delivery without X-GitHub-Delivery is refused with 400 and stores nothing", async () => {
    const body = JSON.stringify(installationEvent("created", { id: 807 }));
    const res = await fetch(`${server().url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-hub-signature-256": sign(body) },
      body,
    });
    await expectRefused(res, 400, "invalid_input");
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test.each([
    ["push", { ref: "refs/heads/main", installation: { id: 806 } }],
    ["issues", { action: "deleted", installation: { id: 806 } }],
    ["not-an-event", { action: "created", installation: { id: 806 } }],
  ])("a correctly signed %s delivery, an event Octoplex does not keep, is acknowledged with 200 and changes nothing", async (event, payload) => {
    const before = await ourInstallation();
    const res = await server().sendWebhook(event, payload);
    expect(res.status).toBe(200);
    expect(await stored()).toEqual(before);
  });

  test("a correctly signed delivery about another app's installation is acknowledged and stores nothing", async () => {
    const payload = installationEvent("created", { id: 804 });
    payload.installation.app_id = 99999;
    const res = await server().sendWebhook("installation", payload);
    expect(res.status).toBe(200);
    expect(nonEmptyTables(await stored())).toEqual({});
  });

  test.each([
    ["installation", "deleted", () => installationEvent("deleted", { id: 806 })],
    ["installation", "suspend", () => installationEvent("suspend", { id: 806, suspendedBy: "mallory", suspendedAt: "2026-11-02T09:00:00Z", updatedAt: "2026-11-03T00:00:00Z" })],
    ["installation", "new_permissions_accepted", () => installationEvent("new_permissions_accepted", { id: 806, permissions: { administration: "write" }, updatedAt: "2026-11-03T00:00:00Z" })],
    ["installation_repositories", "added", () => installationRepositoriesEvent("added", { id: 806, updatedAt: "2026-11-03T00:00:00Z" }, { added: [repository(1, "acme/secret")] })],
  ])("a correctly signed %s.%s stamped with another app's id leaves our installation of that id and its links untouched", async (event, _action, payload) => {
    const before = await ourInstallation();
    const forged = payload();
    forged.installation.app_id = 99999;
    expect((await server().sendWebhook(event, forged)).status).toBe(200);
    expect(await stored()).toEqual(before);
  });

  test("a replayed delivery id is acknowledged and changes nothing", async () => {
    const first = installationEvent("created", { id: 805 });
    expect((await server().sendWebhook("installation", first, { deliveryId: "d-replay" })).status).toBe(200);
    const before = await stored();
    expect(nonEmptyTables(before)).toEqual({ installations: 1, webhook_deliveries: 1 });
    const replay = installationEvent("suspend", { id: 805, suspendedAt: "2026-11-02T09:00:00Z", suspendedBy: "mallory", updatedAt: "2026-11-03T00:00:00Z" });
    expect((await server().sendWebhook("installation", replay, { deliveryId: "d-replay" })).status).toBe(200);
    expect((await server().sendWebhook("installation", installationEvent("deleted", { id: 805 }), { deliveryId: "d-replay" })).status).toBe(200);
    expect(await db()("installations").where({ id: 805 }).first("suspended_at")).toEqual({ suspended_at: null });
    expect(await stored()).toEqual(before);
  });
});
