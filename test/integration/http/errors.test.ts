import { createTestDatabase, TestDatabase } from "../../helpers/databases";
import { sign, startTestServer, TestServer } from "../../helpers/test-server";

describe("HTTP errors", () => {
  let database: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    server = await startTestServer(database);
  });
  afterAll(async () => {
    await server.close();
    await database.drop();
  });

  const deliveries = async () => Number((await server.deps.db("webhook_deliveries").count({ n: "*" }))[0].n);

  test("an unknown route answers 404 in the error shape", async () => {
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "No route for GET /nope" } });
  });

  test("POST /api/github/webhooks rejects a correctly signed body that is not JSON with 400", async () => {
    const body = "{not json";
    const res = await fetch(`${server.url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "d-x", "x-hub-signature-256": sign(body) },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    expect(await deliveries()).toBe(0);
  });

  test("POST /api/github/webhooks without a delivery id answers 400 and stores nothing", async () => {
    const body = JSON.stringify({ action: "created" });
    const res = await fetch(`${server.url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-hub-signature-256": sign(body) },
      body,
    });
    expect(res.status).toBe(400);
    expect(await deliveries()).toBe(0);
  });

  test("POST /api/github/webhooks answers 413 for a body over GitHub's 25 MB cap", async () => {
    const body = JSON.stringify({ action: "created", padding: "x".repeat(26 * 1024 * 1024) });
    const res = await fetch(`${server.url}/api/github/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "installation", "x-github-delivery": "d-big", "x-hub-signature-256": sign(body) },
      body,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    expect(await deliveries()).toBe(0);
  });

  test("an event Octoplex does not keep is acknowledged and not recorded", async () => {
    const res = await server.sendWebhook("push", { ref: "refs/heads/main", installation: { id: 1 } });
    expect(res.status).toBe(200);
    expect(await deliveries()).toBe(0);
  });
});
